// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IRewardMinter
/// @notice The one token function PayoutVault needs: mint a reward to a device owner.
interface IRewardMinter {
    /// @notice Mints `amount` to `to`; only callable by an account the token trusts to mint.
    function mint(address to, uint256 amount) external;
}
