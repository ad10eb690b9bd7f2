// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IGroth16Verifier4} from "./interfaces/IGroth16Verifier4.sol";
import {IGroth16Verifier5} from "./interfaces/IGroth16Verifier5.sol";

/// @title MockVerifier
/// @notice TESTS AND DEVNETS ONLY: accepts a "proof" whose a[0] is a hash commitment to the public signals.
/// @dev Binding the signals (rather than accepting anything) keeps tamper tests honest without real proofs:
/// change any public value and the commitment no longer matches. Anyone can forge such proofs.
contract MockVerifier is IGroth16Verifier4, IGroth16Verifier5 {
    uint256 internal constant SNARK_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice keccak256 of the signals as 32-byte words, reduced into the field: the a[0] a mock proof carries.
    function commitment(uint256[] memory signals) public pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked(signals))) % SNARK_FIELD;
    }

    /// @inheritdoc IGroth16Verifier4
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata, uint256[2] calldata, uint256[4] calldata pub)
        external
        pure
        returns (bool)
    {
        uint256[] memory s = new uint256[](4);
        for (uint256 i; i < 4; ++i) s[i] = pub[i];
        return a[0] == commitment(s);
    }

    /// @inheritdoc IGroth16Verifier5
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata, uint256[2] calldata, uint256[5] calldata pub)
        external
        pure
        returns (bool)
    {
        uint256[] memory s = new uint256[](5);
        for (uint256 i; i < 5; ++i) s[i] = pub[i];
        return a[0] == commitment(s);
    }

    /// @notice A stateful applet's 6 signals (imageId, deviceId, epoch, output, stateIn, stateOut).
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata, uint256[2] calldata, uint256[6] calldata pub)
        external
        pure
        returns (bool)
    {
        uint256[] memory s = new uint256[](6);
        for (uint256 i; i < 6; ++i) s[i] = pub[i];
        return a[0] == commitment(s);
    }

    /// @notice A stateful applet's 7 signals (the 6 with the param before stateIn).
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata, uint256[2] calldata, uint256[7] calldata pub)
        external
        pure
        returns (bool)
    {
        uint256[] memory s = new uint256[](7);
        for (uint256 i; i < 7; ++i) s[i] = pub[i];
        return a[0] == commitment(s);
    }
}
