// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {DeviceRegistry} from "./DeviceRegistry.sol";
import {AppletRegistry} from "./AppletRegistry.sol";
import {Groth16Points} from "./Groth16Points.sol";
import {IRewardMinter} from "./interfaces/IRewardMinter.sol";

/// @title PayoutVault
/// @notice Pays the owner of a device token once per (imageId, token, epoch) for a proven applet output.
/// @dev The vault rebuilds the public signals from its own arguments, so a proof can only pay the claim it was
/// made for. The nullifier slot also records the proven output (`factOf`), so other contracts can read facts.
/// Only epochs on the applet's schedule (AppletRegistry) that have ended by chain time are paid: a proof holds for
/// every window around the same readings, so without a schedule each shifted window would be a fresh nullifier.
/// The proof's deviceId is the key that signed the readings; DeviceRegistry maps it to its token. The nullifier is
/// per token (rotating the key cannot pay an epoch twice), the owner paid is the token's `ownerOf` at claim time,
/// and the key must have been the token's key for the whole epoch (a revoked or replaced key earns nothing after).
contract PayoutVault is ReentrancyGuard {
    uint256 internal constant SNARK_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Set in a fact slot next to the output (< 2^254), so a spent nullifier is nonzero even for output 0.
    uint256 internal constant SPENT = 1 << 255;

    /// @notice Most gas a claim verifier may use; a verifier that needs more is treated as out of gas.
    uint256 public constant VERIFIER_GAS_CAP = 1_000_000;
    /// @dev Gas held back from the verifier call: enough to check the proof's points and revert with a named error.
    uint256 internal constant VERIFY_RESERVE = 20_000;
    /// @notice Length of a claim proof: abi.encode(uint256 k, uint256[2] a, uint256[2][2] b, uint256[2] c).
    uint256 public constant PROOF_LENGTH = 288;
    /// @dev Selectors of snarkjs verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N]) for N = 4 and 5.
    bytes4 internal constant VERIFY4 = 0x5fe8c13b;
    bytes4 internal constant VERIFY5 = 0x34baeab9;
    /// @dev The same for N = 6 and 7: a stateful applet's verifier (stateIn, stateOut after the other signals).
    bytes4 internal constant VERIFY6 = 0xf398789b;
    bytes4 internal constant VERIFY7 = 0xc894e757;

    /// @notice Registry of devices and their owners.
    DeviceRegistry public immutable devices;
    /// @notice Registry of applets, their verifiers and rewards.
    AppletRegistry public immutable applets;
    /// @notice Token minted as reward (this vault must hold its minter role).
    IRewardMinter public immutable token;

    mapping(bytes32 nullifier => uint256 fact) private _facts;

    /// @notice Where a device's next claim of a stateful applet starts: the stateOut of its last paid claim and that
    /// claim's epoch (both zero before its first claim, which starts from the applet's empty state).
    struct DeviceState {
        uint256 commitment;
        uint256 epoch;
    }

    /// @dev Per device token, not per key: rotating the key neither resets nor forks the state.
    mapping(bytes32 imageId => mapping(uint256 tokenId => DeviceState)) private _states;

    /// @notice One claim of a batch.
    struct Claim {
        bytes32 imageId;
        uint256 deviceId;
        uint256 epoch;
        uint256 output;
        bytes proof;
    }

    /// @notice A proven claim was paid: `reward` tokens went to `owner` for `output` of device `deviceId` in `epoch`.
    /// `deviceId` is the key that signed; DeviceRegistry.tokenOfKey names its token (the same id unless rotated).
    event ClaimPaid(
        bytes32 indexed imageId, uint256 indexed deviceId, uint256 indexed epoch, address owner, uint256 output, uint256 reward
    );

    /// @notice A stateful claim was paid: the device token's state moved from `stateIn` to `stateOut` in `epoch`.
    event StateAdvanced(
        bytes32 indexed imageId, uint256 indexed tokenId, uint256 indexed epoch, uint256 stateIn, uint256 stateOut
    );

    /// @notice A batch item was already paid (e.g. someone submitted it first): it was skipped, the rest were paid.
    event ClaimSkipped(bytes32 indexed imageId, uint256 indexed deviceId, uint256 indexed epoch);

    /// @notice This (imageId, device token, epoch) was already paid, under this or another key of the token.
    error PayoutVault__AlreadyClaimed(bytes32 imageId, uint256 deviceId, uint256 epoch);
    /// @notice No applet with this imageId is registered in AppletRegistry.
    error PayoutVault__UnknownApplet(bytes32 imageId);
    /// @notice The applet is paused; its owner must resume it before claims are paid.
    error PayoutVault__AppletPaused(bytes32 imageId);
    /// @notice No device token has this key (deviceId) in DeviceRegistry.
    error PayoutVault__UnknownDevice(uint256 deviceId);
    /// @notice The applet does not pay devices of this maker (0: self-registered): see AppletRegistry's device choice.
    error PayoutVault__DeviceNotAccepted(bytes32 imageId, uint256 tokenId, uint32 makerId);
    /// @notice The signing key was not the token's key for the whole epoch (rotated or revoked before its end, or
    /// made the token's key after its start).
    error PayoutVault__KeyNotValid(uint256 deviceId, uint256 epoch, uint256 validFromMs, uint256 validUntilMs);
    /// @notice The applet has no verifier for proofs over this many readings (k); prove with a registered size.
    error PayoutVault__NoVerifierForSize(bytes32 imageId, uint256 k);
    /// @notice The proof does not verify for these public signals (imageId, deviceId, epoch, output, param).
    error PayoutVault__InvalidProof(bytes32 imageId, uint256 deviceId, uint256 epoch);
    /// @notice The verifier used up all the gas it was given: resend with a higher gas limit. (Given the full
    /// VERIFIER_GAS_CAP, the proof more likely holds a G2 point outside the subgroup, which the precompile rejects.)
    error PayoutVault__VerifierOutOfGas(bytes32 imageId, uint256 gasForwarded);
    /// @notice A public value (deviceId, epoch or output) must lie below the BN254 scalar field.
    error PayoutVault__ValueOutOfField(uint256 value);
    /// @notice output * rewardPerUnit does not fit in 256 bits.
    error PayoutVault__RewardOverflow(uint256 output, uint256 rewardPerUnit);
    /// @notice Item `index` of a batch failed with `reason` (an encoded PayoutVault error); nothing was paid.
    error PayoutVault__BatchItemFailed(uint256 index, bytes reason);
    /// @notice The epoch's length is not the applet's epochLengthMs: only windows on the applet's schedule pay.
    error PayoutVault__WrongEpochLength(bytes32 imageId, uint256 lengthMs, uint256 epochLengthMs);
    /// @notice The epoch starts before the applet's genesis (its first scheduled epoch).
    error PayoutVault__EpochBeforeGenesis(bytes32 imageId, uint256 startMs, uint256 genesisMs);
    /// @notice The epoch's start is not genesisMs + i·epochLengthMs: a shifted window over the same readings.
    error PayoutVault__EpochMisaligned(bytes32 imageId, uint256 startMs, uint256 genesisMs, uint256 epochLengthMs);
    /// @notice The epoch ends after the current block's time (ms): it is paid once it has ended.
    error PayoutVault__EpochNotEnded(bytes32 imageId, uint256 endMs, uint256 nowMs);
    /// @notice The applet's epochs from `batchFromMs` on are credited by its BatchVault (AppletRegistry.batchVaultOf),
    /// not by single claims: submit the device in a batch.
    error PayoutVault__BatchedEpoch(bytes32 imageId, uint256 epoch, uint256 batchFromMs);
    /// @notice A batch needs at least one claim.
    error PayoutVault__EmptyBatch();
    /// @notice The applet keeps no state between epochs (AppletRegistry.emptyStateOf is zero): use claim.
    error PayoutVault__NotStateful(bytes32 imageId);
    /// @notice The applet keeps state between epochs: its claims go through claimStateful, which checks where the
    /// state starts (named when a claim or batch item of a stateful applet does not verify).
    error PayoutVault__StatefulApplet(bytes32 imageId);
    /// @notice The claim starts from `stateIn`, but the device's stored state is `expected` (its last paid claim's
    /// stateOut, or the applet's empty state): prove from that state, after every earlier claim was paid.
    error PayoutVault__StateMismatch(bytes32 imageId, uint256 deviceId, uint256 stateIn, uint256 expected);
    /// @notice A stateful claim's epoch must come after the device's last paid one (`lastEpoch`): the state carries
    /// forward only.
    error PayoutVault__EpochNotAfterState(bytes32 imageId, uint256 deviceId, uint256 epoch, uint256 lastEpoch);

    /// @param devices_ Registry the vault reads device owners and active flags from.
    /// @param applets_ Registry the vault reads verifiers, rewards and pauses from.
    /// @param token_ Reward token; grant this vault its minter role after deployment.
    constructor(DeviceRegistry devices_, AppletRegistry applets_, IRewardMinter token_) {
        devices = devices_;
        applets = applets_;
        token = token_;
    }

    /// @notice Verifies a claim and pays `output * rewardPerUnit` to the device's owner.
    /// @param imageId Applet version (sha256 of its Wasm).
    /// @param deviceId Device that produced the readings.
    /// @param epoch Packed epoch window `startMs·2^32 + lengthMs`, on the applet's schedule and ended.
    /// @param output Applet output the proof binds.
    /// @param proof `abi.encode(uint256 k, uint256[2] a, uint256[2][2] b, uint256[2] c)`.
    /// @return reward Tokens minted to the device's owner.
    function claim(bytes32 imageId, uint256 deviceId, uint256 epoch, uint256 output, bytes calldata proof)
        external
        nonReentrant
        returns (uint256 reward)
    {
        bytes memory err;
        (reward, err) = _claim(imageId, deviceId, epoch, output, proof);
        if (err.length != 0) _revertWith(err);
    }

    /// @notice Verifies and pays many claims in one transaction. Items already paid are skipped with ClaimSkipped
    /// (anyone may front-run one item from the mempool; that must not block the rest); any other bad item reverts
    /// the whole batch.
    /// @dev Reverts with PayoutVault__BatchItemFailed(index, reason) naming the first bad item.
    /// @return total Tokens minted over all claims.
    function claimBatch(Claim[] calldata claims) external nonReentrant returns (uint256 total) {
        if (claims.length == 0) revert PayoutVault__EmptyBatch();
        for (uint256 i; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            (uint256 reward, bytes memory err) = _claim(c.imageId, c.deviceId, c.epoch, c.output, c.proof);
            if (err.length != 0) {
                if (bytes4(err) != PayoutVault__AlreadyClaimed.selector) revert PayoutVault__BatchItemFailed(i, err);
                emit ClaimSkipped(c.imageId, c.deviceId, c.epoch);
            }
            total += reward;
        }
    }

    /// @notice Verifies and pays a claim of a stateful applet (AppletRegistry.setStateful). The proof's public
    /// signals end in stateIn and stateOut; stateIn must be the device token's stored state (the stateOut of its last
    /// paid claim, or the applet's empty state before its first), so no state is invented between epochs, and the
    /// epoch must come after that claim's. An epoch never claimed is skipped: the next starts from the stored state.
    /// On payment the token's state becomes stateOut. Other checks and the nullifier are claim's.
    /// @param stateIn The state commitment the proof starts from (checked against storage, named if it differs).
    /// @param stateOut The state commitment the proof ends with.
    /// @return reward Tokens minted to the device's owner.
    function claimStateful(
        bytes32 imageId,
        uint256 deviceId,
        uint256 epoch,
        uint256 output,
        uint256 stateIn,
        uint256 stateOut,
        bytes calldata proof
    ) external nonReentrant returns (uint256 reward) {
        bytes memory err = _inField(deviceId, epoch, output);
        if (err.length != 0) _revertWith(err);
        if (stateOut >= SNARK_FIELD) revert PayoutVault__ValueOutOfField(stateOut);
        (uint256 tokenId, address owner, uint32 makerId, uint256 fromMs, uint256 untilMs) = devices.claimInfo(deviceId);
        if (owner == address(0)) revert PayoutVault__UnknownDevice(deviceId);
        bytes32 nullifier = nullifierOf(imageId, tokenId, epoch);
        if (_facts[nullifier] != 0) revert PayoutVault__AlreadyClaimed(imageId, deviceId, epoch);
        if ((epoch >> 32) < fromMs || (untilMs != 0 && (epoch >> 32) + (epoch & 0xffffffff) > untilMs)) {
            revert PayoutVault__KeyNotValid(deviceId, epoch, fromMs, untilMs);
        }
        address verifier;
        uint256[5] memory head;
        bool hasParam;
        (verifier, reward, hasParam, err) = _applet(imageId, epoch, output, proof, head, tokenId, makerId);
        if (err.length != 0) _revertWith(err);
        uint256 empty = applets.emptyStateOf(imageId);
        if (empty == 0) revert PayoutVault__NotStateful(imageId);
        DeviceState storage st = _states[imageId][tokenId];
        if (epoch <= st.epoch) revert PayoutVault__EpochNotAfterState(imageId, deviceId, epoch, st.epoch);
        uint256 expected = st.commitment == 0 ? empty : st.commitment;
        if (stateIn != expected) revert PayoutVault__StateMismatch(imageId, deviceId, stateIn, expected);
        uint256[7] memory signals;
        (signals[0], signals[1], signals[2], signals[3]) = (uint256(imageId) % SNARK_FIELD, deviceId, epoch, output);
        uint256 at = 4;
        if (hasParam) (signals[4], at) = (head[4], 5);
        (signals[at], signals[at + 1]) = (stateIn, stateOut);
        (uint256 status, uint256 forwarded) = _verifyState(verifier, proof, signals, hasParam);
        if (status == 1) revert PayoutVault__InvalidProof(imageId, deviceId, epoch);
        if (status == 2) revert PayoutVault__VerifierOutOfGas(imageId, forwarded);
        _facts[nullifier] = SPENT | output;
        (st.commitment, st.epoch) = (stateOut, epoch);
        emit ClaimPaid(imageId, deviceId, epoch, owner, output, reward);
        emit StateAdvanced(imageId, tokenId, epoch, stateIn, stateOut);
        if (reward != 0) token.mint(owner, reward);
    }

    /// @notice Where the device's next claim of a stateful applet starts: `state` (the applet's empty state before
    /// its first claim) and the epoch of its last paid claim (0: none). deviceId: token id or key. (0, 0) for an
    /// applet that is not stateful.
    function stateOf(bytes32 imageId, uint256 deviceId) external view returns (uint256 state, uint256 lastEpoch) {
        DeviceState storage st = _states[imageId][_tokenOf(deviceId)];
        (state, lastEpoch) = (st.commitment, st.epoch);
        if (state == 0) state = applets.emptyStateOf(imageId);
    }

    /// @notice Whether this (imageId, device, epoch) was already paid; deviceId is the token id or any of its keys.
    function isClaimed(bytes32 imageId, uint256 deviceId, uint256 epoch) external view returns (bool) {
        return _facts[nullifierOf(imageId, _tokenOf(deviceId), epoch)] != 0;
    }

    /// @notice The proven output of a paid claim: a fact other contracts may rely on. deviceId: token id or key.
    /// @return proven True when the claim was paid. @return output The output its proof bound.
    function factOf(bytes32 imageId, uint256 deviceId, uint256 epoch) external view returns (bool proven, uint256 output) {
        uint256 f = _facts[nullifierOf(imageId, _tokenOf(deviceId), epoch)];
        return (f != 0, f & ~SPENT);
    }

    /// @notice The nullifier of a claim: keccak256(imageId, tokenId, epoch), per device token (not per key).
    function nullifierOf(bytes32 imageId, uint256 tokenId, uint256 epoch) public pure returns (bytes32 n) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, imageId)
            mstore(add(p, 0x20), tokenId)
            mstore(add(p, 0x40), epoch)
            n := keccak256(p, 0x60)
        }
    }

    /// @dev Checks, effects, interaction. Returns an encoded error instead of reverting so claimBatch can name
    /// the failing item; the token call is the only interaction and comes last.
    function _claim(bytes32 imageId, uint256 deviceId, uint256 epoch, uint256 output, bytes calldata proof)
        private
        returns (uint256 reward, bytes memory err)
    {
        err = _inField(deviceId, epoch, output);
        if (err.length != 0) return (0, err);
        (uint256 tokenId, address owner, uint32 makerId, uint256 fromMs, uint256 untilMs) = devices.claimInfo(deviceId);
        if (owner == address(0)) return (0, abi.encodeWithSelector(PayoutVault__UnknownDevice.selector, deviceId));
        // the nullifier before the key's validity: an epoch paid under another key of the token is "already paid"
        // (claimBatch skips it), whether or not this key was valid for it
        bytes32 nullifier = nullifierOf(imageId, tokenId, epoch);
        if (_facts[nullifier] != 0) {
            return (0, abi.encodeWithSelector(PayoutVault__AlreadyClaimed.selector, imageId, deviceId, epoch));
        }
        // the key must have been the token's key for the whole epoch [startMs, startMs + lengthMs) (epoch < r: no overflow)
        if ((epoch >> 32) < fromMs || (untilMs != 0 && (epoch >> 32) + (epoch & 0xffffffff) > untilMs)) {
            return (0, abi.encodeWithSelector(PayoutVault__KeyNotValid.selector, deviceId, epoch, fromMs, untilMs));
        }
        address verifier;
        uint256[5] memory signals;
        bool hasParam;
        (verifier, reward, hasParam, err) = _applet(imageId, epoch, output, proof, signals, tokenId, makerId);
        if (err.length != 0) return (0, err);
        (signals[0], signals[1], signals[2], signals[3]) = (uint256(imageId) % SNARK_FIELD, deviceId, epoch, output);
        (uint256 status, uint256 forwarded) = _verify(verifier, proof, signals, hasParam);
        if (status == 1) {
            // only on failure (no cost on the paid path): a stateful applet's verifier has no 4/5-signal entry
            if (applets.emptyStateOf(imageId) != 0) {
                return (0, abi.encodeWithSelector(PayoutVault__StatefulApplet.selector, imageId));
            }
            return (0, abi.encodeWithSelector(PayoutVault__InvalidProof.selector, imageId, deviceId, epoch));
        }
        if (status == 2) return (0, abi.encodeWithSelector(PayoutVault__VerifierOutOfGas.selector, imageId, forwarded));
        _facts[nullifier] = SPENT | output;
        emit ClaimPaid(imageId, deviceId, epoch, owner, output, reward);
        if (reward != 0) token.mint(owner, reward);
    }

    /// @dev Public values must be field elements (else two epochs could alias in the circuit).
    function _inField(uint256 deviceId, uint256 epoch, uint256 output) private pure returns (bytes memory err) {
        if (deviceId >= SNARK_FIELD) return abi.encodeWithSelector(PayoutVault__ValueOutOfField.selector, deviceId);
        if (epoch >= SNARK_FIELD) return abi.encodeWithSelector(PayoutVault__ValueOutOfField.selector, epoch);
        if (output >= SNARK_FIELD) return abi.encodeWithSelector(PayoutVault__ValueOutOfField.selector, output);
    }

    function _tokenOf(uint256 deviceId) private view returns (uint256 tokenId) {
        tokenId = devices.tokenOfKey(deviceId);
        if (tokenId == 0) tokenId = deviceId;
    }

    /// @dev The verifier for the proof's size k, the reward for `output`, and the reducer parameter (in signals[4]);
    /// refuses an epoch off the applet's schedule or not yet ended.
    function _applet(
        bytes32 imageId,
        uint256 epoch,
        uint256 output,
        bytes calldata proof,
        uint256[5] memory signals,
        uint256 tokenId,
        uint32 makerId
    )
        private
        view
        returns (address verifier, uint256 reward, bool hasParam, bytes memory err)
    {
        if (proof.length != PROOF_LENGTH) {
            return (verifier, 0, false, abi.encodeWithSelector(PayoutVault__InvalidProof.selector, imageId, 0, 0));
        }
        uint256 k = uint256(bytes32(proof[0:32]));
        bool paused;
        uint256 rewardPerUnit;
        uint256 lengthMs;
        uint256 genesisMs;
        bool accepted;
        (verifier, rewardPerUnit, paused, hasParam, signals[4], lengthMs, genesisMs, accepted) =
            applets.claimConfig(imageId, k, makerId);
        if (lengthMs == 0) return (verifier, 0, false, abi.encodeWithSelector(PayoutVault__UnknownApplet.selector, imageId));
        if (paused) return (verifier, 0, false, abi.encodeWithSelector(PayoutVault__AppletPaused.selector, imageId));
        if (!accepted) {
            return (
                verifier,
                0,
                false,
                abi.encodeWithSelector(PayoutVault__DeviceNotAccepted.selector, imageId, tokenId, makerId)
            );
        }
        err = _onSchedule(imageId, epoch, lengthMs, genesisMs);
        if (err.length != 0) return (verifier, 0, false, err);
        if (verifier == address(0)) {
            // only on this path (no extra cost for other applets): an applet switched to batches pays single claims
            // of epochs before the switch only; later ones are its BatchVault's (one payment per device-epoch)
            (address batchVault, uint256 fromMs) = applets.batchVaultOf(imageId);
            if (batchVault != address(0)) {
                if ((epoch >> 32) >= fromMs) {
                    return (verifier, 0, false, abi.encodeWithSelector(PayoutVault__BatchedEpoch.selector, imageId, epoch, fromMs));
                }
                verifier = applets.verifierOf(imageId, k);
            }
            if (verifier == address(0)) {
                return (verifier, 0, false, abi.encodeWithSelector(PayoutVault__NoVerifierForSize.selector, imageId, k));
            }
        }
        unchecked {
            reward = output * rewardPerUnit;
            if (output != 0 && reward / output != rewardPerUnit) {
                return (verifier, 0, false, abi.encodeWithSelector(PayoutVault__RewardOverflow.selector, output, rewardPerUnit));
            }
        }
    }

    /// @dev epoch = startMs·2^32 + lengthMs (device-sdk/epoch.ts). epoch < SNARK_FIELD (checked first), so the
    /// sums below cannot overflow.
    function _onSchedule(bytes32 imageId, uint256 epoch, uint256 lengthMs, uint256 genesisMs)
        private
        view
        returns (bytes memory err)
    {
        uint256 startMs = epoch >> 32;
        uint256 len = epoch & 0xffffffff;
        if (len != lengthMs) return abi.encodeWithSelector(PayoutVault__WrongEpochLength.selector, imageId, len, lengthMs);
        if (startMs < genesisMs) {
            return abi.encodeWithSelector(PayoutVault__EpochBeforeGenesis.selector, imageId, startMs, genesisMs);
        }
        if ((startMs - genesisMs) % lengthMs != 0) {
            return abi.encodeWithSelector(PayoutVault__EpochMisaligned.selector, imageId, startMs, genesisMs, lengthMs);
        }
        uint256 nowMs = block.timestamp * 1000;
        if (startMs + lengthMs > nowMs) {
            return abi.encodeWithSelector(PayoutVault__EpochNotEnded.selector, imageId, startMs + lengthMs, nowMs);
        }
    }

    /// @dev Calls the snarkjs verifier directly: its calldata is the proof's a, b, c words (already in snarkjs
    /// order) followed by the signals this contract rebuilt. Gas is capped and at most 32 bytes are read back.
    /// snarkjs verifiers answer false when a precompile runs out of gas, and a precompile given an off-curve point
    /// also eats all its gas; so when the call used nearly all it was given, the points decide: on the curve means
    /// out of gas (status 2), off it means an invalid proof (status 1).
    function _verify(address verifier, bytes calldata proof, uint256[5] memory signals, bool hasParam)
        private
        view
        returns (uint256 status, uint256 forwarded)
    {
        bytes4 sel = hasParam ? VERIFY5 : VERIFY4;
        uint256 len = hasParam ? 420 : 388;
        uint256 g = gasleft();
        // keep VERIFY_RESERVE back so a verifier that exhausts its gas still leaves enough to name the failure
        forwarded = g > VERIFY_RESERVE ? g - VERIFY_RESERVE : 0;
        if (forwarded > VERIFIER_GAS_CAP) forwarded = VERIFIER_GAS_CAP;
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, sel)
            calldatacopy(add(p, 4), add(proof.offset, 32), 256)
            mcopy_(add(p, 260), signals, 160)
            function mcopy_(dst, src, n) {
                for { let i := 0 } lt(i, n) { i := add(i, 32) } { mstore(add(dst, i), mload(add(src, i))) }
            }
            ok := staticcall(forwarded, verifier, p, len, 0, 0x20)
            ok := and(ok, and(iszero(lt(returndatasize(), 0x20)), eq(mload(0), 1)))
        }
        if (ok) return (0, 0);
        return (_failure(g, forwarded, proof), forwarded);
    }

    /// @dev _verify for a stateful applet: signals = [imageId, deviceId, epoch, output, (param,) stateIn, stateOut].
    function _verifyState(address verifier, bytes calldata proof, uint256[7] memory signals, bool hasParam)
        private
        view
        returns (uint256 status, uint256 forwarded)
    {
        bytes4 sel = hasParam ? VERIFY7 : VERIFY6;
        uint256 len = hasParam ? 484 : 452;
        uint256 g = gasleft();
        forwarded = g > VERIFY_RESERVE ? g - VERIFY_RESERVE : 0;
        if (forwarded > VERIFIER_GAS_CAP) forwarded = VERIFIER_GAS_CAP;
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, sel)
            calldatacopy(add(p, 4), add(proof.offset, 32), 256)
            for { let i := 0 } lt(i, 224) { i := add(i, 32) } { mstore(add(add(p, 260), i), mload(add(signals, i))) }
            ok := staticcall(forwarded, verifier, p, len, 0, 0x20)
            ok := and(ok, and(iszero(lt(returndatasize(), 0x20)), eq(mload(0), 1)))
        }
        if (ok) return (0, 0);
        return (_failure(g, forwarded, proof), forwarded);
    }

    /// @dev Why a verifier call failed (see _verify): 1 invalid proof, 2 out of gas.
    function _failure(uint256 g, uint256 forwarded, bytes calldata proof) private view returns (uint256) {
        if (g - gasleft() + forwarded / 16 + 3000 < forwarded) return 1;
        uint256[8] memory w;
        for (uint256 i; i < 8; ++i) w[i] = uint256(bytes32(proof[32 + 32 * i:64 + 32 * i]));
        return Groth16Points.onCurve(w) ? 2 : 1;
    }

    function _revertWith(bytes memory err) private pure {
        assembly ("memory-safe") {
            revert(add(err, 0x20), mload(err))
        }
    }
}
