// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IClaimVerifier
/// @notice What PayoutVault asks of an applet's verifier: is `proof` valid for exactly these public signals?
/// @dev Implementations must return false (never revert) for a bad proof, so the vault can name the failure.
interface IClaimVerifier {
    /// @notice Checks a proof against public signals the caller rebuilt from its own arguments.
    /// @param proof `abi.encode(uint256 k, uint256[2] a, uint256[2][2] b, uint256[2] c)` (snarkjs Solidity calldata order).
    /// @param publicSignals `[imageIdField, deviceId, epoch, output]`, plus `[param]` when the reducer has one.
    /// @return ok True only when the proof verifies for these signals.
    function verifyClaim(bytes calldata proof, uint256[] calldata publicSignals) external view returns (bool ok);
}
