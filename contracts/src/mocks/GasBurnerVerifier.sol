// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IGroth16Verifier4} from "../interfaces/IGroth16Verifier4.sol";

/// @title GasBurnerVerifier
/// @notice TESTS ONLY: a verifier that never finishes, to check the vault names an out-of-gas verifier.
contract GasBurnerVerifier is IGroth16Verifier4 {
    /// @inheritdoc IGroth16Verifier4
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[4] calldata)
        external
        view
        returns (bool)
    {
        uint256 x;
        while (gasleft() > 0) x = uint256(keccak256(abi.encode(x)));
        return x == 0;
    }
}
