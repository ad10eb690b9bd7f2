// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IRewardMinter} from "./interfaces/IRewardMinter.sol";

/// @title RewardToken
/// @notice The ERC-20 that devices earn for proven facts. Only minters (the PayoutVault) create new tokens.
contract RewardToken is ERC20, AccessControl, IRewardMinter {
    /// @notice Role allowed to mint; granted to PayoutVault at deployment.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @param admin Account that may grant and revoke MINTER_ROLE.
    constructor(address admin) ERC20("MachineFi Reward", "MFR") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Mints `amount` to `to`.
    /// @dev Reverts with AccessControlUnauthorizedAccount when the caller lacks MINTER_ROLE.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }
}
