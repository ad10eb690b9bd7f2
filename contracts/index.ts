/** Public surface of the contracts layer: build output, devnet, deployment, proof encodings and the typed client. */
export { buildContracts, EVM_VERSION, type Artifact, type ArtifactsFile } from "./compile.ts";
export { loadArtifacts, getArtifact, generatedVerifierNames } from "./artifacts.ts";
export { startAnvil, anvilBinary, ANVIL_MNEMONIC, type Anvil, type StartAnvilOptions } from "./anvil.ts";
export {
  deployAll,
  deployContract,
  readManifest,
  writeManifest,
  DEFAULT_MANIFEST_DIR,
  REDUCER_ARITY,
  type DeploymentManifest,
  type DeployOptions,
  type MarketGovernance,
  type ReducerVerifiers,
} from "./deploy.ts";
export { createMarketClient, deployDataMarket, mintDevToken, type MarketClient, type StreamInfo } from "./market.ts";
export {
  createMachinefiClient,
  type MachinefiClient,
  type AppletInfo,
  type SkippedClaim,
  type ClaimInput,
  type StatefulClaimInput,
  type PaidClaim,
  type TxResult,
  type TxOverrides,
  type CompiledVerifierSource,
} from "./client.ts";
export {
  compileVerifier,
  deployVerifier,
  VERIFIERS_BUILD_DIR,
  type VerifierSource,
  type CompiledVerifier,
} from "./verifier-deploy.ts";
export {
  encodeClaimProof,
  decodeClaimProof,
  claimSignals,
  registerSignals,
  mockCommitment,
  mockClaimProof,
  mockRegisterProof,
  type ClaimProof,
  type ClaimValues,
  type Groth16Calldata,
} from "./proof.ts";
export { ContractsError, ContractRevertedError, UnknownRevertError, ContractsEnvironmentError } from "./errors.ts";
export { decodeRevertData, toContractsError } from "./revert.ts";
export { makeProvider, isDevnet, isChainUnreachable } from "./provider.ts";
export {
  DevVerifiersRefusedError,
  loadProductionVerifiers,
  DEV_KEYS_CHAIN_ID,
  DEV_KEYS_OPT_IN,
  PROD_BUILD_DIR,
  type ProductionVerifier,
} from "./verifier-keys.ts";
export {
  admitMaker,
  addModel,
  makerOf,
  signAttestation,
  registerAttested,
  rotateKey,
  revokeKey,
  keyOf,
  tokenOfKey,
  ownerOf,
  deviceMetadata,
  attestationDomain,
  ATTESTATION_TYPES,
  type DeviceAttestation,
  type MakerInfo,
  type DeviceKey,
} from "./devices.ts";
export { DEV_MAKER_NAME } from "./deploy.ts";
export { withAccessList } from "./access-list.ts";
export { codeHasVerifyingKey, type VerifyingKeyPoints } from "./verifier-match.ts";
