/**
 * Read-only access to the AppletRegistry of a chain, for CLI commands that check against it (`mfi prove --rpc`,
 * `mfi verify --rpc`): one provider per call, the registry from --registry or the chain's deployment manifest, an
 * unreachable RPC as ContractsEnvironmentError, and the provider closed whatever `read` does.
 */
import { Contract, type JsonRpcProvider } from "ethers";
import { getArtifact, makeProvider, readManifest } from "../contracts/index.ts";
import { ContractsEnvironmentError } from "../contracts/index.ts";

export interface RegistryContext {
  provider: JsonRpcProvider;
  chainId: bigint;
  registry: string;
  applets: Contract;
}

export async function withAppletRegistry<T>(
  o: { rpcUrl: string; registry?: string; manifestDir?: string },
  read: (ctx: RegistryContext) => Promise<T>,
): Promise<T> {
  const provider = makeProvider(o.rpcUrl);
  try {
    let chainId: bigint;
    try {
      chainId = (await provider.getNetwork()).chainId;
    } catch (cause) {
      throw new ContractsEnvironmentError(`cannot reach the RPC at ${o.rpcUrl}`, { cause });
    }
    const registry =
      o.registry ?? readManifest(chainId, ...(o.manifestDir ? [o.manifestDir] : [])).contracts.AppletRegistry;
    const applets = new Contract(registry, getArtifact("AppletRegistry").abi as never, provider);
    return await read({ provider, chainId, registry, applets });
  } finally {
    provider.destroy();
  }
}
