/**
 * A device key's proof of key for `owner` on a client's DeviceRegistry (registration and rotation carry one): a
 * Groth16 proof of the `register` circuit, or a MockVerifier proof when the deployment registers through it.
 * Shared by `mfi device register|rotate` and the devnet's key rotation.
 */
import { proveRegistration } from "../circuits/index.ts";
import { mockRegisterProof, registerSignals, type Groth16Calldata, type MachinefiClient } from "../contracts/index.ts";
import { registrationMessage, type DeviceKey, type EddsaBackend } from "../device-sdk/index.ts";

export async function proofOfKey(
  client: MachinefiClient,
  backend: EddsaBackend,
  key: DeviceKey,
  owner: string,
): Promise<Groth16Calldata> {
  const chainId = BigInt(client.chainId);
  const registry = client.manifest.contracts.DeviceRegistry;
  if (client.manifest.registerVerifier === "mock")
    return mockRegisterProof(registerSignals({ deviceId: key.deviceId, owner, chainId, registry }));
  const signature = backend.sign(key.privateKey, registrationMessage(BigInt(owner), chainId, BigInt(registry)));
  return (await proveRegistration({ publicKey: key.publicKey, signature, owner, chainId, registry })).calldata;
}
