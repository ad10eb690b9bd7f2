pragma circom 2.1.0;

// Readings(K): a segment of up to K consecutive readings of one device's signed hash chain (device-sdk/chain.ts),
// reduced to `output`. Design and soundness argument: docs/circuits.md. Built by scripts/build-circuits.ts, which
// writes one main file per (reducer, K) that instantiates ReadingsSum / ReadingsCountAbove / ReadingsMax below.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/eddsaposeidon.circom";

// 0 <= in < 2^n (as an integer), via a unique bit decomposition (n < 253).
template InRange(n) {
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in;
}

// Chain, signature and epoch-window checks shared by every reducer. Outputs nothing: the reducer reads the same
// inside[] and values[][0] signals its wrapper feeds in.
template ReadingsChain(K) {
    signal input deviceId;
    signal input epoch;

    // Device public key and its EdDSA-Poseidon signature over the hash of the last enabled reading.
    signal input Ax;
    signal input Ay;
    signal input S;
    signal input R8x;
    signal input R8y;

    // The reading just before the segment (hasBefore = 0: the segment starts at seq 1, after genesis).
    signal input hasBefore;
    signal input beforeSeq;
    signal input beforeTs;
    signal input beforeValues[4];
    signal input beforePrev;

    // Slots: enabled is a prefix mask; inside (reduced) is a prefix of enabled; enabled slots after the inside
    // ones have ts >= epoch end and chain up to the signed reading.
    signal input enabled[K];
    signal input inside[K];
    signal input ts[K];
    signal input values[K][4];

    // epoch = start * 2^32 + length, start < 2^48.
    component ebits = Num2Bits(80);
    ebits.in <== epoch;
    var len = 0;
    var start = 0;
    for (var b = 0; b < 32; b++) len += ebits.out[b] * (1 << b);
    for (var b = 32; b < 80; b++) start += ebits.out[b] * (1 << (b - 32));
    signal end <== start + len;

    // deviceId binds the key.
    component idHash = Poseidon(2);
    idHash.inputs[0] <== Ax;
    idHash.inputs[1] <== Ay;
    idHash.out === deviceId;

    // Where the segment attaches: genesis, or a before-reading whose ts < start (so nothing earlier is in the epoch).
    hasBefore * (hasBefore - 1) === 0;
    component genesis = Poseidon(1);
    genesis.inputs[0] <== deviceId;
    component beforeHash = Poseidon(8);
    beforeHash.inputs[0] <== deviceId;
    beforeHash.inputs[1] <== beforeSeq;
    beforeHash.inputs[2] <== beforeTs;
    for (var j = 0; j < 4; j++) beforeHash.inputs[3 + j] <== beforeValues[j];
    beforeHash.inputs[7] <== beforePrev;
    signal prev0 <== genesis.out + hasBefore * (beforeHash.out - genesis.out);
    signal seq0 <== 1 + hasBefore * beforeSeq;
    component beforeEarly = InRange(50);
    beforeEarly.in <== hasBefore * (start - 1 - beforeTs);

    // The chain itself: seq is not an input (seq0 + i), so a repeated, skipped or decreasing seq breaks the hash.
    component link[K];
    component mono[K];
    component inRange[K];
    signal signedAcc[K + 1];
    signedAcc[0] <== 0;
    signal firstOutAcc[K];
    signal lastInAcc[K];
    signal dropAcc[K];
    firstOutAcc[0] <== 0;
    lastInAcc[0] <== 0;
    dropAcc[0] <== 0;
    enabled[0] === 1;
    inside[0] === 1;  // an empty epoch makes no claim
    for (var i = 0; i < K; i++) {
        enabled[i] * (enabled[i] - 1) === 0;
        inside[i] * (inside[i] - 1) === 0;
        inside[i] * (1 - enabled[i]) === 0;
        if (i > 0) {
            enabled[i] * (1 - enabled[i - 1]) === 0;
            inside[i] * (1 - inside[i - 1]) === 0;
        }
        // A disabled slot carries nothing.
        (1 - enabled[i]) * values[i][0] === 0;
        // Every value a reducer reads lies in [0, 2^63), in every circuit: a negative i64 enters the chain as r - |v|,
        // and the field sum of such values would let a hand-built witness claim output = r - |sum| (issue 16).
        inRange[i] = InRange(63);
        inRange[i].in <== inside[i] * values[i][0];

        link[i] = Poseidon(8);
        link[i].inputs[0] <== deviceId;
        link[i].inputs[1] <== seq0 + i;
        link[i].inputs[2] <== ts[i];
        for (var j = 0; j < 4; j++) link[i].inputs[3 + j] <== values[i][j];
        link[i].inputs[7] <== i == 0 ? prev0 : link[i - 1].out;

        // The last enabled slot is the signed one.
        var isLast = i + 1 < K ? enabled[i] - enabled[i + 1] : enabled[i];
        signedAcc[i + 1] <== signedAcc[i] + isLast * link[i].out;

        if (i > 0) {
            // ts non-decreasing over enabled slots.
            mono[i] = InRange(48);
            mono[i].in <== enabled[i] * (ts[i] - ts[i - 1]);
            // drop = 1 exactly at the first enabled slot after the inside ones.
            var drop = inside[i - 1] - inside[i];
            drop * (1 - enabled[i]) === 0;
            firstOutAcc[i] <== firstOutAcc[i - 1] + drop * ts[i];
            lastInAcc[i] <== lastInAcc[i - 1] + drop * ts[i - 1];
        }
    }
    // Some enabled slot lies after the inside ones (the epoch is closed), so a drop happened.
    inside[K - 1] === 0;

    component ver = EdDSAPoseidonVerifier();
    ver.enabled <== 1;
    ver.Ax <== Ax;
    ver.Ay <== Ay;
    ver.S <== S;
    ver.R8x <== R8x;
    ver.R8y <== R8y;
    ver.M <== signedAcc[K];

    // Window: start <= ts[0]; the last inside ts < end <= the first outside ts (ts is non-decreasing).
    component firstIn = InRange(50);
    firstIn.in <== ts[0] - start;
    component lastIn = InRange(50);
    lastIn.in <== end - 1 - lastInAcc[K - 1];
    component firstOut = InRange(50);
    firstOut.in <== firstOutAcc[K - 1] - end;
}


// Public signals first, in the order the vault rebuilds them: imageId, deviceId, epoch, claimOutput[, param].
// circom numbers a main template's public inputs in declaration order, so the declarations below ARE that order.
template ReadingsSum(K) {
    signal input imageId;
    signal input deviceId;
    signal input epoch;
    signal input claimOutput;

    signal input Ax;
    signal input Ay;
    signal input S;
    signal input R8x;
    signal input R8y;
    signal input hasBefore;
    signal input beforeSeq;
    signal input beforeTs;
    signal input beforeValues[4];
    signal input beforePrev;
    signal input enabled[K];
    signal input inside[K];
    signal input ts[K];
    signal input values[K][4];

    component chain = ReadingsChain(K);
    chain.deviceId <== deviceId;
    chain.epoch <== epoch;
    chain.Ax <== Ax;
    chain.Ay <== Ay;
    chain.S <== S;
    chain.R8x <== R8x;
    chain.R8y <== R8y;
    chain.hasBefore <== hasBefore;
    chain.beforeSeq <== beforeSeq;
    chain.beforeTs <== beforeTs;
    chain.beforeValues <== beforeValues;
    chain.beforePrev <== beforePrev;
    chain.enabled <== enabled;
    chain.inside <== inside;
    chain.ts <== ts;
    chain.values <== values;

    signal imageSq <== imageId * imageId;  // binds imageId in the R1CS too (snarkjs binds public inputs anyway)

    // sum of values[0] over the inside readings: K values in [0, 2^63) (ReadingsChain) sum below r, so no wrap.
    signal acc[K + 1];
    acc[0] <== 0;
    for (var i = 0; i < K; i++) acc[i + 1] <== acc[i] + inside[i] * values[i][0];
    claimOutput === acc[K];
}

// Public signals first, in the order the vault rebuilds them: imageId, deviceId, epoch, claimOutput[, param].
// circom numbers a main template's public inputs in declaration order, so the declarations below ARE that order.
template ReadingsCountAbove(K) {
    signal input imageId;
    signal input deviceId;
    signal input epoch;
    signal input claimOutput;
    signal input threshold;

    signal input Ax;
    signal input Ay;
    signal input S;
    signal input R8x;
    signal input R8y;
    signal input hasBefore;
    signal input beforeSeq;
    signal input beforeTs;
    signal input beforeValues[4];
    signal input beforePrev;
    signal input enabled[K];
    signal input inside[K];
    signal input ts[K];
    signal input values[K][4];

    component chain = ReadingsChain(K);
    chain.deviceId <== deviceId;
    chain.epoch <== epoch;
    chain.Ax <== Ax;
    chain.Ay <== Ay;
    chain.S <== S;
    chain.R8x <== R8x;
    chain.R8y <== R8y;
    chain.hasBefore <== hasBefore;
    chain.beforeSeq <== beforeSeq;
    chain.beforeTs <== beforeTs;
    chain.beforeValues <== beforeValues;
    chain.beforePrev <== beforePrev;
    chain.enabled <== enabled;
    chain.inside <== inside;
    chain.ts <== ts;
    chain.values <== values;

    signal imageSq <== imageId * imageId;  // binds imageId in the R1CS too (snarkjs binds public inputs anyway)

    // count of inside readings with values[0] > threshold (strict). x = v + 2^63 - threshold - 1 has bit 63 set
    // iff v > threshold when both lie in [0, 2^63); a v whose x does not fit 64 bits has no witness.
    component tbits = Num2Bits(63);
    tbits.in <== threshold;
    component x[K];
    signal acc[K + 1];
    acc[0] <== 0;
    for (var i = 0; i < K; i++) {
        x[i] = Num2Bits(64);
        x[i].in <== inside[i] * (values[i][0] + (1 << 63) - threshold - 1);
        acc[i + 1] <== acc[i] + x[i].out[63];
    }
    claimOutput === acc[K];
}

// Public signals first, in the order the vault rebuilds them: imageId, deviceId, epoch, claimOutput[, param].
// circom numbers a main template's public inputs in declaration order, so the declarations below ARE that order.
template ReadingsMax(K) {
    signal input imageId;
    signal input deviceId;
    signal input epoch;
    signal input claimOutput;

    signal input Ax;
    signal input Ay;
    signal input S;
    signal input R8x;
    signal input R8y;
    signal input hasBefore;
    signal input beforeSeq;
    signal input beforeTs;
    signal input beforeValues[4];
    signal input beforePrev;
    signal input enabled[K];
    signal input inside[K];
    signal input ts[K];
    signal input values[K][4];

    component chain = ReadingsChain(K);
    chain.deviceId <== deviceId;
    chain.epoch <== epoch;
    chain.Ax <== Ax;
    chain.Ay <== Ay;
    chain.S <== S;
    chain.R8x <== R8x;
    chain.R8y <== R8y;
    chain.hasBefore <== hasBefore;
    chain.beforeSeq <== beforeSeq;
    chain.beforeTs <== beforeTs;
    chain.beforeValues <== beforeValues;
    chain.beforePrev <== beforePrev;
    chain.enabled <== enabled;
    chain.inside <== inside;
    chain.ts <== ts;
    chain.values <== values;

    signal imageSq <== imageId * imageId;  // binds imageId in the R1CS too (snarkjs binds public inputs anyway)

    // max of values[0] over the inside readings, starting from 0. x = v - m + 2^63 has bit 63 set iff v >= m when
    // both lie in [0, 2^63); outside slots give x = 0 and keep m.
    component x[K];
    signal m[K + 1];
    m[0] <== 0;
    for (var i = 0; i < K; i++) {
        x[i] = Num2Bits(64);
        x[i].in <== inside[i] * (values[i][0] - m[i] + (1 << 63));
        m[i + 1] <== m[i] + x[i].out[63] * (values[i][0] - m[i]);
    }
    claimOutput === m[K];
}
