// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC721Holder} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Holder.sol";

/// @title DeviceHolder
/// @notice Test double of a contract that holds device tokens (an NFT vault, a lending protocol's escrow): it
/// accepts safe transfers through OpenZeppelin's ERC721Holder and receives the devices' rewards.
contract DeviceHolder is ERC721Holder {}
