pragma circom 2.1.0;

// Register(): the key behind deviceId signed registrationMessage(owner, chainId, registry) = Poseidon3 (see
// device-sdk/chain.ts), so DeviceRegistry can register a device without verifying EdDSA on-chain.
// Public signals, in declaration order: deviceId, owner, chainId, registry.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/eddsaposeidon.circom";

template Register() {
    signal input deviceId;
    signal input owner;
    signal input chainId;
    signal input registry;

    signal input Ax;
    signal input Ay;
    signal input S;
    signal input R8x;
    signal input R8y;

    component id = Poseidon(2);
    id.inputs[0] <== Ax;
    id.inputs[1] <== Ay;
    id.out === deviceId;

    component msg = Poseidon(3);
    msg.inputs[0] <== owner;
    msg.inputs[1] <== chainId;
    msg.inputs[2] <== registry;

    component ver = EdDSAPoseidonVerifier();
    ver.enabled <== 1;
    ver.Ax <== Ax;
    ver.Ay <== Ay;
    ver.S <== S;
    ver.R8x <== R8x;
    ver.R8y <== R8y;
    ver.M <== msg.out;
}
