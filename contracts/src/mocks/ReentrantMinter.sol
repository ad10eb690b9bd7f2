// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IRewardMinter} from "../interfaces/IRewardMinter.sol";

interface IVaultClaim {
    function claim(bytes32 imageId, uint256 deviceId, uint256 epoch, uint256 output, bytes calldata proof)
        external
        returns (uint256);
}

/// @title ReentrantMinter
/// @notice TESTS ONLY: a reward token whose mint hook calls back into the vault with a prepared claim.
contract ReentrantMinter is IRewardMinter {
    address public vault;
    bytes internal reentry;

    /// @notice Sets the vault and the claim to replay from inside mint.
    function arm(address vault_, bytes32 imageId, uint256 deviceId, uint256 epoch, uint256 output, bytes calldata proof)
        external
    {
        vault = vault_;
        reentry = abi.encodeCall(IVaultClaim.claim, (imageId, deviceId, epoch, output, proof));
    }

    /// @inheritdoc IRewardMinter
    function mint(address, uint256) external {
        (bool ok, bytes memory ret) = vault.call(reentry);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
