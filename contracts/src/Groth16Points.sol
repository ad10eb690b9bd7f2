// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Groth16Points
/// @notice Checks that a proof's points lie on BN254 (G1: y² = x³ + 3; G2 on the twist y² = x³ + 3/(9+u)).
/// @dev A point off the curve makes the pairing precompile fail, and a failing precompile eats all the gas it was
/// given, which looks exactly like running out of gas. PayoutVault calls this only after a verifier failed that way,
/// to tell the two apart; the happy path never pays for it. (A G2 point outside the subgroup still looks like it.)
library Groth16Points {
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant B2_RE = 19485874751759354771024239261021720505790618469301721065564631296452457478373;
    uint256 internal constant B2_IM = 266929791119991161246907387137283842545076965332900288569378510910307636690;

    /// @notice True when a, b, c (snarkjs calldata order: b = [[x_im, x_re], [y_im, y_re]]) are valid curve points.
    /// @param w The eight proof words a0, a1, b00, b01, b10, b11, c0, c1.
    function onCurve(uint256[8] memory w) internal pure returns (bool) {
        for (uint256 i; i < 8; ++i) if (w[i] >= Q) return false;
        return onG1(w[0], w[1]) && onG2(w[3], w[2], w[5], w[4]) && onG1(w[6], w[7]);
    }

    function onG1(uint256 x, uint256 y) internal pure returns (bool) {
        if (x == 0 && y == 0) return true; // the point at infinity
        return mulmod(y, y, Q) == addmod(mulmod(mulmod(x, x, Q), x, Q), 3, Q);
    }

    /// @dev x = xr + xi·u, y = yr + yi·u over Fp2 (u² = −1).
    function onG2(uint256 xr, uint256 xi, uint256 yr, uint256 yi) internal pure returns (bool) {
        if ((xr | xi | yr | yi) == 0) return true;
        uint256 sr = addmod(mulmod(xr, xr, Q), Q - mulmod(xi, xi, Q), Q);
        uint256 si = mulmod(2, mulmod(xr, xi, Q), Q);
        uint256 cr = addmod(mulmod(sr, xr, Q), Q - mulmod(si, xi, Q), Q);
        uint256 ci = addmod(mulmod(sr, xi, Q), mulmod(si, xr, Q), Q);
        uint256 yr2 = addmod(mulmod(yr, yr, Q), Q - mulmod(yi, yi, Q), Q);
        uint256 yi2 = mulmod(2, mulmod(yr, yi, Q), Q);
        return yr2 == addmod(cr, B2_RE, Q) && yi2 == addmod(ci, B2_IM, Q);
    }
}
