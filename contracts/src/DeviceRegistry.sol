// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IGroth16Verifier4} from "./interfaces/IGroth16Verifier4.sol";
import {MakerRegistry} from "./MakerRegistry.sol";
import {DeviceMetadata} from "./DeviceMetadata.sol";
import {DeviceToken} from "./DeviceToken.sol";

/// @title DeviceRegistry
/// @notice Devices as ERC-721 tokens: one token per device, `ownerOf` is who PayoutVault pays. The token id is the
/// deviceId (Poseidon of the BabyJubJub public key) the device was registered with; its signing key may later be
/// rotated or revoked, and PayoutVault pays a claim only when the key that signed it was the token's key for the
/// whole epoch.
/// @dev Registration paths: a maker's batch (no per-device proof), an owner with the maker's EIP-712 attestation
/// plus a proof of key, or an owner with a proof of key alone (maker 0: only applets open to any device pay it).
/// The contract never checks an EdDSA signature itself: a proof of key is a Groth16 proof (circuit `register`)
/// that the key behind deviceId signed Poseidon(owner, block.chainid, address(this)).
/// Storage: a token's owner, maker, model and its first key's end of validity share ONE slot (`_slots`), so a batch
/// registration costs one new slot per device and a claim one SLOAD (DeviceToken says why not OZ's ERC721).
contract DeviceRegistry is DeviceToken {
    /// @dev BN254 scalar field: deviceId is a Poseidon output, so it always lies below it.
    uint256 internal constant SNARK_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant OWNER_MASK = (1 << 160) - 1;
    /// @dev Token slot: owner (bits 0–159), maker id (160–191), model (192–207), first key's validUntilMs (208–255).
    /// Rotated-key slot: zero owner bits, validFromMs (160–207), validUntilMs (208–255). A validUntilMs of 0 is open.
    uint256 internal constant UNTIL_SHIFT = 208;

    /// @notice EIP-712 type of a maker's attestation that it made device `deviceId` of model `model`.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256("DeviceAttestation(uint256 deviceId,address maker,uint16 model)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /// @notice Groth16 verifier of the `register` circuit, public signals [deviceId, owner, chainId, registry].
    IGroth16Verifier4 public immutable registerVerifier;
    /// @notice Makers admitted by governance.
    MakerRegistry public immutable makers;

    mapping(uint256 id => uint256) private _slots;
    /// @dev Rotated key → its token (a token's first key is the token id itself and has no entry).
    mapping(uint256 keyId => uint256 tokenId) private _keyToken;
    /// @dev Token → its current key when rotated (0: the token id is still its key).
    mapping(uint256 tokenId => uint256 keyId) private _currentKey;

    /// @notice Device `tokenId` was registered to `owner` by `registrar`; maker 0 means self-registered.
    event DeviceRegistered(uint256 indexed tokenId, address indexed owner, uint32 indexed makerId, uint16 model, address registrar);
    /// @notice Maker `makerId` registered `count` devices of `model` in one batch (each also emits Transfer).
    event DevicesBatchRegistered(uint32 indexed makerId, uint16 model, uint256 count);
    /// @notice The token's key changed from `oldKey` to `newKey` at `atMs`; the old key's validity ends there.
    event KeyRotated(uint256 indexed tokenId, uint256 indexed oldKey, uint256 indexed newKey, uint256 atMs, address by);
    /// @notice The token's key `keyId` stopped being valid from `fromMs` (it never earns again for later epochs).
    event KeyRevoked(uint256 indexed tokenId, uint256 indexed keyId, uint256 fromMs, address by);

    /// @notice This key was already used by a device (as its first or a rotated key); keys are never reused.
    error DeviceRegistry__AlreadyRegistered(uint256 deviceId);
    /// @notice No device token has this id.
    error DeviceRegistry__UnknownDevice(uint256 tokenId);
    /// @notice Only the token's owner, an approved operator or the device's maker may do this.
    error DeviceRegistry__NotAuthorized(uint256 tokenId, address caller);
    /// @notice The proof does not show that the device key signed (owner, chainId, registry).
    error DeviceRegistry__InvalidProof(uint256 deviceId, address owner);
    /// @notice deviceId must be a nonzero field element (a Poseidon hash of the public key).
    error DeviceRegistry__InvalidDeviceId(uint256 deviceId);
    /// @notice The owner must be a nonzero address.
    error DeviceRegistry__ZeroOwner();
    /// @notice A batch needs one owner per deviceId.
    error DeviceRegistry__LengthMismatch(uint256 deviceIds, uint256 owners);
    /// @notice The caller (or attester) is not an active maker in MakerRegistry.
    error DeviceRegistry__NotMaker(address account);
    /// @notice The maker has no model with this number (MakerRegistry.addModel).
    error DeviceRegistry__UnknownModel(uint32 makerId, uint16 model);
    /// @notice The attestation was not signed by `maker` for this device, model, chain and registry.
    error DeviceRegistry__BadAttestation(uint256 deviceId, address maker, address signer);
    /// @notice A revocation time must lie in the current key's validity [validFromMs, validUntilMs).
    error DeviceRegistry__BadRevocationTime(uint256 tokenId, uint256 fromMs, uint256 validFromMs, uint256 validUntilMs);

    /// @param verifier Groth16 verifier of the register circuit (generated, or MockVerifier on a devnet).
    /// @param makers_ The maker registry whose active makers may register and attest devices.
    constructor(IGroth16Verifier4 verifier, MakerRegistry makers_) {
        registerVerifier = verifier;
        makers = makers_;
    }

    // ---------------------------------------------------------------- registration

    /// @notice Registers `deviceId` to `owner` without a maker (proof of key only): only applets that accept any
    /// device pay it. Anyone may relay the transaction: the proof binds the owner.
    /// @param deviceId Poseidon(Ax, Ay) of the device's public key; becomes the token id.
    /// @param owner Account that receives the token (and the device's rewards).
    function registerDevice(
        uint256 deviceId,
        address owner,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external {
        _checkNew(deviceId, owner);
        _checkProof(deviceId, owner, a, b, c);
        _mintDevice(deviceId, owner, 0, 0);
    }

    /// @notice Registers `deviceId` to `owner` with its maker's EIP-712 attestation over (deviceId, maker, model)
    /// and a proof of key bound to the owner. Anyone may relay it.
    /// @param maker The attesting maker's account (an active maker).
    /// @param model The model number in the maker's catalogue.
    /// @param signature The maker's EIP-712 signature of DeviceAttestation(deviceId, maker, model).
    function registerAttested(
        uint256 deviceId,
        address owner,
        address maker,
        uint16 model,
        bytes calldata signature,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external {
        _checkNew(deviceId, owner);
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01", domainSeparator(), keccak256(abi.encode(ATTESTATION_TYPEHASH, deviceId, maker, model))
            )
        );
        (address signer,,) = ECDSA.tryRecover(digest, signature);
        if (signer != maker || signer == address(0)) revert DeviceRegistry__BadAttestation(deviceId, maker, signer);
        uint32 makerId = _makerModel(maker, model);
        _checkProof(deviceId, owner, a, b, c);
        _mintDevice(deviceId, owner, makerId, model);
    }

    /// @notice Registers many devices made by the calling maker in one transaction (no per-device proof).
    /// @param model Model number in the caller's catalogue, for every device of the batch.
    /// @param deviceIds Device ids (token ids); none may have been used before.
    /// @param owners Owner of each device, same length as deviceIds.
    function registerDevicesBatch(uint16 model, uint256[] calldata deviceIds, address[] calldata owners) external {
        if (deviceIds.length != owners.length) revert DeviceRegistry__LengthMismatch(deviceIds.length, owners.length);
        uint32 makerId = _makerModel(msg.sender, model);
        uint256 meta = (uint256(makerId) << 160) | (uint256(model) << 192);
        for (uint256 i; i < deviceIds.length; ++i) {
            (uint256 id, address owner) = (deviceIds[i], owners[i]);
            _checkNew(id, owner);
            _slots[id] = meta | uint160(owner);
            _mint(owner, id);
        }
        emit DevicesBatchRegistered(makerId, model, deviceIds.length);
    }

    // ---------------------------------------------------------------- keys

    /// @notice Replaces the token's key by `newKeyId` from now on (the old key's validity ends now). Owner, approved
    /// operator or the device's maker (a recalled batch). Needs a proof that the new key signed (owner, chainId,
    /// registry), as at registration, with the token's current owner.
    function rotateKey(
        uint256 tokenId,
        uint256 newKeyId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external {
        address owner = _authorizedKeyAdmin(tokenId);
        if (newKeyId == 0 || newKeyId >= SNARK_FIELD) revert DeviceRegistry__InvalidDeviceId(newKeyId);
        if (_slots[newKeyId] != 0) revert DeviceRegistry__AlreadyRegistered(newKeyId);
        _checkProof(newKeyId, owner, a, b, c);
        uint256 nowMs = block.timestamp * 1000;
        uint256 oldKey = _keyIdOf(tokenId);
        (, uint256 untilMs) = _window(oldKey);
        if (untilMs == 0 || untilMs > nowMs) _setUntil(oldKey, nowMs);
        _slots[newKeyId] = nowMs << 160;
        _keyToken[newKeyId] = tokenId;
        _currentKey[tokenId] = newKeyId;
        emit KeyRotated(tokenId, oldKey, newKeyId, nowMs, msg.sender);
    }

    /// @notice Revokes the token's current key from `fromMs` (e.g. when the key was stolen at that time): epochs
    /// that end after it are never paid for this key, whatever happens to the token later. Rotate to a new key to
    /// earn again. Owner, approved operator or the device's maker.
    /// @param fromMs Start of the revocation in ms (> 0), within the key's validity [validFromMs, validUntilMs).
    function revokeKey(uint256 tokenId, uint256 fromMs) external {
        _authorizedKeyAdmin(tokenId);
        uint256 keyId = _keyIdOf(tokenId);
        (uint256 validFrom, uint256 validUntil) = _window(keyId);
        if (fromMs == 0 || fromMs < validFrom || (validUntil != 0 && fromMs >= validUntil) || fromMs >= 1 << 48) {
            revert DeviceRegistry__BadRevocationTime(tokenId, fromMs, validFrom, validUntil);
        }
        _setUntil(keyId, fromMs);
        emit KeyRevoked(tokenId, keyId, fromMs, msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @notice What PayoutVault needs to pay a claim signed by `keyId`: the key's token, its owner and maker, and
    /// the key's validity [validFromMs, validUntilMs) (validUntilMs 0: still valid). owner is zero for an unknown key.
    function claimInfo(uint256 keyId)
        external
        view
        returns (uint256 tokenId, address owner, uint32 makerId, uint256 validFromMs, uint256 validUntilMs)
    {
        uint256 s = _slots[keyId];
        if (s == 0) return (0, address(0), 0, 0, 0);
        if (uint160(s) != 0) return (keyId, address(uint160(s)), uint32(s >> 160), 0, s >> UNTIL_SHIFT);
        tokenId = _keyToken[keyId];
        uint256 t = _slots[tokenId];
        return (tokenId, address(uint160(t)), uint32(t >> 160), uint48(s >> 160), s >> UNTIL_SHIFT);
    }

    /// @notice The token a key belongs to (0 when the key is unknown).
    function tokenOfKey(uint256 keyId) public view returns (uint256) {
        uint256 s = _slots[keyId];
        if (s == 0) return 0;
        return uint160(s) != 0 ? keyId : _keyToken[keyId];
    }

    /// @notice The token's current key and its validity (validUntilMs 0: open; set once revoked).
    function keyOf(uint256 tokenId) external view returns (uint256 keyId, uint256 validFromMs, uint256 validUntilMs) {
        _requireOwned(tokenId);
        keyId = _keyIdOf(tokenId);
        (validFromMs, validUntilMs) = _window(keyId);
    }

    /// @notice The owner of the token `deviceId` (a token id or any of its keys) belongs to, and whether that key is
    /// valid now; owner is zero when unknown. (DataMarket and the gateway read this.)
    function deviceOf(uint256 deviceId) external view returns (address owner, bool active) {
        uint256 tokenId = tokenOfKey(deviceId);
        if (tokenId == 0) return (address(0), false);
        (, uint256 untilMs) = _window(deviceId);
        return (_ownerOf(tokenId), untilMs == 0 || untilMs > block.timestamp * 1000);
    }

    /// @notice Maker id (0: self-registered) and model number of a device token.
    function makerOf(uint256 tokenId) public view returns (uint32 makerId, uint16 model) {
        uint256 s = _slots[tokenId];
        if (uint160(s) == 0) revert DeviceRegistry__UnknownDevice(tokenId);
        return (uint32(s >> 160), uint16(s >> 192));
    }

    /// @notice On-chain JSON metadata (data URI): maker, model, current key and its validity.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        (uint32 makerId, uint16 model) = makerOf(tokenId);
        uint256 keyId = _keyIdOf(tokenId);
        (uint256 fromMs, uint256 untilMs) = _window(keyId);
        return DeviceMetadata.uri(makers, tokenId, makerId, model, keyId, fromMs, untilMs);
    }

    /// @notice The EIP-712 domain attestations are signed under: name "machinefi DeviceRegistry", version "1", this
    /// chain's id and this registry's address (so an attestation is valid on one chain and one registry only).
    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("machinefi DeviceRegistry"), keccak256("1"), block.chainid, address(this))
        );
    }

    // ---------------------------------------------------------------- internals

    function _ownerOf(uint256 tokenId) internal view override returns (address) {
        return address(uint160(_slots[tokenId]));
    }

    function _setOwner(uint256 tokenId, address to) internal override {
        _slots[tokenId] = (_slots[tokenId] & ~OWNER_MASK) | uint160(to);
    }

    function _mintDevice(uint256 tokenId, address owner, uint32 makerId, uint16 model) private {
        _slots[tokenId] = (uint256(makerId) << 160) | (uint256(model) << 192) | uint160(owner);
        _mint(owner, tokenId);
        emit DeviceRegistered(tokenId, owner, makerId, model, msg.sender);
    }

    function _checkNew(uint256 deviceId, address owner) private view {
        if (deviceId == 0 || deviceId >= SNARK_FIELD) revert DeviceRegistry__InvalidDeviceId(deviceId);
        if (owner == address(0)) revert DeviceRegistry__ZeroOwner();
        if (_slots[deviceId] != 0) revert DeviceRegistry__AlreadyRegistered(deviceId);
    }

    function _checkProof(uint256 keyId, address owner, uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c)
        private
        view
    {
        uint256[4] memory pub = [keyId, uint256(uint160(owner)), block.chainid, uint256(uint160(address(this)))];
        if (!registerVerifier.verifyProof(a, b, c, pub)) revert DeviceRegistry__InvalidProof(keyId, owner);
    }

    function _makerModel(address account, uint16 model) private view returns (uint32 makerId) {
        uint256 models;
        (makerId, models) = makers.activeMakerOf(account);
        if (makerId == 0) revert DeviceRegistry__NotMaker(account);
        if (model >= models) revert DeviceRegistry__UnknownModel(makerId, model);
    }

    /// @dev Owner, approved operator, or the account of the device's maker; returns the token's owner.
    function _authorizedKeyAdmin(uint256 tokenId) private view returns (address owner) {
        uint256 s = _slots[tokenId];
        owner = address(uint160(s));
        if (owner == address(0)) revert DeviceRegistry__UnknownDevice(tokenId);
        if (_isAuthorized(owner, msg.sender, tokenId)) return owner;
        uint32 makerId = uint32(s >> 160);
        if (makerId != 0) {
            (address makerAccount,,) = makers.makerOf(makerId);
            if (makerAccount == msg.sender) return owner;
        }
        revert DeviceRegistry__NotAuthorized(tokenId, msg.sender);
    }

    function _keyIdOf(uint256 tokenId) private view returns (uint256 keyId) {
        keyId = _currentKey[tokenId];
        if (keyId == 0) keyId = tokenId;
    }

    /// @dev Validity of a known key: a first key is valid from the beginning (its chain predates registration).
    function _window(uint256 keyId) private view returns (uint256 fromMs, uint256 untilMs) {
        uint256 s = _slots[keyId];
        untilMs = s >> UNTIL_SHIFT;
        if (uint160(s) == 0) fromMs = uint48(s >> 160);
    }

    function _setUntil(uint256 keyId, uint256 untilMs) private {
        uint256 s = _slots[keyId];
        _slots[keyId] = (s & ((1 << UNTIL_SHIFT) - 1)) | (untilMs << UNTIL_SHIFT);
    }
}
