// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title DevToken
/// @notice A worthless test stablecoin for devnets: anyone may mint any amount. Buyers of data streams and of
/// example insurance policies pay with it on a devnet, since RewardToken only mints through the vault.
/// @dev The constructor refuses any chain but a devnet (31337 anvil / 1337), so it cannot be deployed by mistake
/// where free minting would matter.
contract DevToken is ERC20 {
    /// @notice DevToken may only be deployed on a devnet (chain id 31337 or 1337).
    error DevToken__NotADevnet(uint256 chainId);

    constructor() ERC20("MachineFi Dev USD (devnet only, worthless)", "dUSD") {
        if (block.chainid != 31337 && block.chainid != 1337) revert DevToken__NotADevnet(block.chainid);
    }

    /// @notice Mints `amount` to `to`; open to everyone, because this token only exists on devnets.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
