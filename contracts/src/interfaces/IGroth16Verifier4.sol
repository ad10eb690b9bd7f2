// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IGroth16Verifier4
/// @notice The function a snarkjs-generated Groth16 verifier with four public signals exposes.
interface IGroth16Verifier4 {
    /// @notice True when (a, b, c) is a valid proof for `pubSignals`; false for a bad proof or out of gas.
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[4] calldata pubSignals
    ) external view returns (bool);
}
