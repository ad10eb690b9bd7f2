// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IGroth16Verifier5
/// @notice The function a snarkjs-generated Groth16 verifier with five public signals exposes (count_above).
interface IGroth16Verifier5 {
    /// @notice True when (a, b, c) is a valid proof for `pubSignals`; false for a bad proof or out of gas.
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[5] calldata pubSignals
    ) external view returns (bool);
}
