// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IClaimVerifier} from "../interfaces/IClaimVerifier.sol";

/// @title GasBurnerVerifier
/// @notice TESTS ONLY: a verifier that never finishes, to check the vault names an out-of-gas verifier.
contract GasBurnerVerifier is IClaimVerifier {
    /// @inheritdoc IClaimVerifier
    function verifyClaim(bytes calldata, uint256[] calldata) external view returns (bool) {
        uint256 x;
        while (gasleft() > 0) x = uint256(keccak256(abi.encode(x)));
        return x == 0;
    }
}
