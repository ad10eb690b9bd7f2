// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IGroth16Verifier4} from "./interfaces/IGroth16Verifier4.sol";

/// @title DeviceRegistry
/// @notice deviceId (Poseidon of the device's BabyJubJub public key) → owner and active flag.
/// @dev The contract never checks an EdDSA signature itself: registration carries a Groth16 proof (circuit
/// `register`) that the key behind deviceId signed Poseidon(owner, block.chainid, address(this)). Manufacturers
/// may instead vouch for whole batches in one transaction.
contract DeviceRegistry is AccessControl {
    /// @notice Role allowed to register batches of devices without per-device proofs.
    bytes32 public constant MANUFACTURER_ROLE = keccak256("MANUFACTURER_ROLE");

    /// @dev BN254 scalar field: deviceId is a Poseidon output, so it always lies below it.
    uint256 internal constant SNARK_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @dev One slot: PayoutVault reads owner and active with a single SLOAD.
    struct Device {
        address owner;
        bool active;
    }

    /// @notice Groth16 verifier of the `register` circuit, public signals [deviceId, owner, chainId, registry].
    IGroth16Verifier4 public immutable registerVerifier;

    mapping(uint256 deviceId => Device) private _devices;

    /// @notice A device was registered to `owner`; `registrar` is the proof submitter or the manufacturer.
    event DeviceRegistered(uint256 indexed deviceId, address indexed owner, address indexed registrar);
    /// @notice Ownership of a device moved from `from` to `to`.
    event DeviceTransferred(uint256 indexed deviceId, address indexed from, address indexed to);
    /// @notice A device stopped (active = false) or resumed (active = true) earning.
    event DeviceActiveSet(uint256 indexed deviceId, bool active, address indexed by);

    /// @notice This deviceId is already registered; transfer it instead of registering it again.
    error DeviceRegistry__AlreadyRegistered(uint256 deviceId);
    /// @notice No device with this deviceId is registered; register it first.
    error DeviceRegistry__UnknownDevice(uint256 deviceId);
    /// @notice Only the device's owner may do this.
    error DeviceRegistry__NotDeviceOwner(uint256 deviceId, address caller);
    /// @notice The registration proof does not show that the device key signed (owner, chainId, registry).
    error DeviceRegistry__InvalidProof(uint256 deviceId, address owner);
    /// @notice deviceId must be a nonzero field element (a Poseidon hash of the public key).
    error DeviceRegistry__InvalidDeviceId(uint256 deviceId);
    /// @notice The owner must be a nonzero address.
    error DeviceRegistry__ZeroOwner();
    /// @notice A batch needs one owner per deviceId.
    error DeviceRegistry__LengthMismatch(uint256 deviceIds, uint256 owners);
    /// @notice The device is already in the requested active state.
    error DeviceRegistry__ActiveUnchanged(uint256 deviceId, bool active);

    /// @param admin Account that may grant MANUFACTURER_ROLE.
    /// @param verifier Groth16 verifier of the register circuit (generated, or MockVerifier on a devnet).
    constructor(address admin, IGroth16Verifier4 verifier) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        registerVerifier = verifier;
    }

    /// @notice Registers `deviceId` to `owner` with a proof that the device key signed (owner, chainId, this).
    /// @dev Anyone may relay the transaction: the proof binds the owner, so a relayer cannot redirect it.
    /// @param deviceId Poseidon(Ax, Ay) of the device's public key.
    /// @param owner Account that receives the device's rewards.
    /// @param a Proof element A.
    /// @param b Proof element B (snarkjs calldata order).
    /// @param c Proof element C.
    function registerDevice(
        uint256 deviceId,
        address owner,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external {
        _checkNew(deviceId, owner);
        uint256[4] memory pub = [deviceId, uint256(uint160(owner)), block.chainid, uint256(uint160(address(this)))];
        if (!registerVerifier.verifyProof(a, b, c, pub)) revert DeviceRegistry__InvalidProof(deviceId, owner);
        _devices[deviceId] = Device(owner, true);
        emit DeviceRegistered(deviceId, owner, msg.sender);
    }

    /// @notice Registers many devices in one transaction, vouched for by a manufacturer (no per-device proof).
    /// @param deviceIds Device ids to register; none may be registered already.
    /// @param owners Owner of each device, same length as deviceIds.
    function registerDevicesBatch(uint256[] calldata deviceIds, address[] calldata owners)
        external
        onlyRole(MANUFACTURER_ROLE)
    {
        if (deviceIds.length != owners.length) revert DeviceRegistry__LengthMismatch(deviceIds.length, owners.length);
        for (uint256 i; i < deviceIds.length; ++i) {
            (uint256 id, address owner) = (deviceIds[i], owners[i]);
            _checkNew(id, owner);
            _devices[id] = Device(owner, true);
            emit DeviceRegistered(id, owner, msg.sender);
        }
    }

    /// @notice Moves a device to a new owner; future rewards go to `to`.
    function transferDevice(uint256 deviceId, address to) external {
        address from = _onlyOwner(deviceId);
        if (to == address(0)) revert DeviceRegistry__ZeroOwner();
        _devices[deviceId].owner = to;
        emit DeviceTransferred(deviceId, from, to);
    }

    /// @notice Stops (false) or resumes (true) a device's earning, e.g. when its key may be compromised.
    function setDeviceActive(uint256 deviceId, bool active) external {
        _onlyOwner(deviceId);
        if (_devices[deviceId].active == active) revert DeviceRegistry__ActiveUnchanged(deviceId, active);
        _devices[deviceId].active = active;
        emit DeviceActiveSet(deviceId, active, msg.sender);
    }

    /// @notice Owner and active flag of a device; owner is zero when it is not registered.
    function deviceOf(uint256 deviceId) external view returns (address owner, bool active) {
        Device storage d = _devices[deviceId];
        return (d.owner, d.active);
    }

    function _checkNew(uint256 deviceId, address owner) private view {
        if (deviceId == 0 || deviceId >= SNARK_FIELD) revert DeviceRegistry__InvalidDeviceId(deviceId);
        if (owner == address(0)) revert DeviceRegistry__ZeroOwner();
        if (_devices[deviceId].owner != address(0)) revert DeviceRegistry__AlreadyRegistered(deviceId);
    }

    function _onlyOwner(uint256 deviceId) private view returns (address owner) {
        owner = _devices[deviceId].owner;
        if (owner == address(0)) revert DeviceRegistry__UnknownDevice(deviceId);
        if (owner != msg.sender) revert DeviceRegistry__NotDeviceOwner(deviceId, msg.sender);
    }
}
