// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IClaimVerifier} from "./interfaces/IClaimVerifier.sol";

/// @title ReadingsVerifierRouter
/// @notice One per reducer: routes a claim proof to the generated Groth16 verifier of its segment size k.
/// @dev Kept tiny because the vault's gas budget is tight: the proof's a, b, c words are copied straight from
/// calldata into the verifier's calldata (they already sit in snarkjs order), followed by the public signals.
contract ReadingsVerifierRouter is IClaimVerifier {
    /// @dev bytes4(keccak256("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[4])")) and the [5] variant.
    bytes4 internal constant VERIFY4 = 0x5fe8c13b;
    bytes4 internal constant VERIFY5 = 0x34baeab9;

    /// @notice Number of public signals the verifiers take (4, or 5 with a reducer parameter).
    uint256 public immutable arity;
    bytes4 internal immutable selector;
    uint256 internal immutable k0;
    uint256 internal immutable k1;
    uint256 internal immutable k2;
    uint256 internal immutable k3;
    address internal immutable v0;
    address internal immutable v1;
    address internal immutable v2;
    address internal immutable v3;

    /// @notice Generated readings verifiers take 4 public signals, or 5 with a reducer parameter.
    error ReadingsVerifierRouter__UnsupportedArity(uint256 arity);
    /// @notice Between one and four (k, verifier) pairs, same length lists.
    error ReadingsVerifierRouter__BadSizes(uint256 ks, uint256 verifiers);

    /// @param arity_ Public signal count of every verifier (4 or 5).
    /// @param ks Segment sizes (e.g. 16, 64, 256).
    /// @param verifiers Generated verifier for each size.
    constructor(uint256 arity_, uint256[] memory ks, address[] memory verifiers) {
        if (arity_ != 4 && arity_ != 5) revert ReadingsVerifierRouter__UnsupportedArity(arity_);
        if (ks.length == 0 || ks.length > 4 || ks.length != verifiers.length) {
            revert ReadingsVerifierRouter__BadSizes(ks.length, verifiers.length);
        }
        arity = arity_;
        selector = arity_ == 4 ? VERIFY4 : VERIFY5;
        uint256[4] memory k;
        address[4] memory v;
        for (uint256 i; i < ks.length; ++i) (k[i], v[i]) = (ks[i], verifiers[i]);
        (k0, k1, k2, k3) = (k[0], k[1], k[2], k[3]);
        (v0, v1, v2, v3) = (v[0], v[1], v[2], v[3]);
    }

    /// @notice The generated verifier for segment size k (zero when this router has none).
    function verifierFor(uint256 k) public view returns (address) {
        if (k == 0) return address(0);
        if (k == k0) return v0;
        if (k == k1) return v1;
        if (k == k2) return v2;
        if (k == k3) return v3;
        return address(0);
    }

    /// @inheritdoc IClaimVerifier
    function verifyClaim(bytes calldata proof, uint256[] calldata publicSignals) external view returns (bool ok) {
        if (proof.length != 288 || publicSignals.length != arity) return false;
        address v = verifierFor(uint256(bytes32(proof[0:32])));
        if (v == address(0)) return false;
        bytes4 sel = selector;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, sel)
            calldatacopy(add(p, 4), add(proof.offset, 32), 256)
            let n := shl(5, publicSignals.length)
            calldatacopy(add(p, 260), publicSignals.offset, n)
            ok := staticcall(gas(), v, p, add(260, n), 0, 0x20)
            ok := and(ok, and(iszero(lt(returndatasize(), 0x20)), eq(mload(0), 1)))
        }
    }
}
