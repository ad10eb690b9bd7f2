// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

interface IDeviceOwners {
    function deviceOf(uint256 deviceId) external view returns (address owner, bool active);
}

/// @title DataMarket
/// @notice Device owners list data streams (one or more of their devices) at a price per period in an ERC-20;
/// buyers subscribe by paying for whole periods; the owner is paid at once minus an optional protocol fee set
/// by governance. The gateway asks `isSubscribed` before serving a stream. Nothing is held by this contract:
/// every payment is forwarded in the same transaction, so no funds can be stuck. A stream sells only while its
/// lister still owns every listed device: a transferred device's data belongs to its new owner.
contract DataMarket is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice Fee cap: 10% in basis points.
    uint16 public constant MAX_FEE_BPS = 1_000;

    struct Stream {
        address owner;
        IERC20 token;
        uint256 pricePerPeriod;
        uint64 periodSeconds;
        bool listed;
    }

    IDeviceOwners public immutable devices;
    uint16 public feeBps;
    address public feeRecipient;
    uint256 public streamCount;
    mapping(uint256 streamId => Stream) private _streams;
    mapping(uint256 streamId => uint256[]) private _streamDevices;
    /// @notice Subscription end (unix seconds) per stream and buyer.
    mapping(uint256 streamId => mapping(address buyer => uint64)) public expiresAt;

    error DataMarket__NotDeviceOwner(uint256 deviceId, address caller);
    error DataMarket__NoDevices();
    error DataMarket__ZeroPeriod();
    error DataMarket__ZeroPeriods();
    error DataMarket__UnknownStream(uint256 streamId);
    error DataMarket__NotStreamOwner(uint256 streamId, address caller);
    error DataMarket__StreamDelisted(uint256 streamId);
    error DataMarket__PriceExceeded(uint256 streamId, uint256 price, uint256 maxPrice);
    error DataMarket__FeeTooHigh(uint16 feeBps, uint16 maxFeeBps);
    error DataMarket__ZeroAddress();
    /// @notice A listed device now belongs to someone else than the stream's owner: the stream no longer sells.
    error DataMarket__DeviceTransferred(uint256 streamId, uint256 deviceId, address currentOwner);

    event StreamListed(uint256 indexed streamId, address indexed owner, address token, uint256 pricePerPeriod, uint64 periodSeconds, uint256[] deviceIds);
    event PriceChanged(uint256 indexed streamId, uint256 oldPrice, uint256 newPrice);
    event StreamDelisted(uint256 indexed streamId);
    event Subscribed(uint256 indexed streamId, address indexed buyer, uint256 periods, uint256 paid, uint256 fee, uint64 expiresAt);
    event FeeChanged(uint16 feeBps, address feeRecipient);

    constructor(address admin, IDeviceOwners deviceRegistry, address feeRecipient_) {
        if (address(deviceRegistry) == address(0) || feeRecipient_ == address(0)) revert DataMarket__ZeroAddress();
        devices = deviceRegistry;
        feeRecipient = feeRecipient_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNANCE_ROLE, admin);
    }

    /// @notice Lists a stream of the caller's devices. The price applies per `periodSeconds`.
    function list(uint256[] calldata deviceIds, IERC20 token, uint256 pricePerPeriod, uint64 periodSeconds)
        external
        returns (uint256 streamId)
    {
        if (deviceIds.length == 0) revert DataMarket__NoDevices();
        if (periodSeconds == 0) revert DataMarket__ZeroPeriod();
        if (address(token) == address(0)) revert DataMarket__ZeroAddress();
        for (uint256 i; i < deviceIds.length; ++i) {
            (address owner,) = devices.deviceOf(deviceIds[i]);
            if (owner != msg.sender) revert DataMarket__NotDeviceOwner(deviceIds[i], msg.sender);
        }
        streamId = ++streamCount;
        _streams[streamId] = Stream(msg.sender, token, pricePerPeriod, periodSeconds, true);
        _streamDevices[streamId] = deviceIds;
        emit StreamListed(streamId, msg.sender, address(token), pricePerPeriod, periodSeconds, deviceIds);
    }

    /// @notice Changes the price for periods bought from now on; running subscriptions keep their expiry.
    function setPrice(uint256 streamId, uint256 newPrice) external {
        Stream storage s = _ownedStream(streamId);
        emit PriceChanged(streamId, s.pricePerPeriod, newPrice);
        s.pricePerPeriod = newPrice;
    }

    /// @notice Stops new subscriptions; running ones stay valid until they expire.
    function delist(uint256 streamId) external {
        Stream storage s = _ownedStream(streamId);
        if (!s.listed) revert DataMarket__StreamDelisted(streamId);
        s.listed = false;
        emit StreamDelisted(streamId);
    }

    /// @notice Buys `periods` periods, extending a running subscription. `maxPricePerPeriod` guards against a
    /// price raised between quote and transaction. Needs an allowance of `price × periods` on the stream's token.
    /// Refused once any listed device was transferred away from the stream's owner. `periods` must fit in 64 bits
    /// (SafeCast): it was truncated while the full `price × periods` was charged.
    function subscribe(uint256 streamId, uint256 periods, uint256 maxPricePerPeriod) external nonReentrant returns (uint64 until) {
        Stream storage s = _streams[streamId];
        if (s.owner == address(0)) revert DataMarket__UnknownStream(streamId);
        if (!s.listed) revert DataMarket__StreamDelisted(streamId);
        if (periods == 0) revert DataMarket__ZeroPeriods();
        if (s.pricePerPeriod > maxPricePerPeriod) revert DataMarket__PriceExceeded(streamId, s.pricePerPeriod, maxPricePerPeriod);
        uint256[] storage ids = _streamDevices[streamId];
        for (uint256 i; i < ids.length; ++i) {
            (address current,) = devices.deviceOf(ids[i]);
            if (current != s.owner) revert DataMarket__DeviceTransferred(streamId, ids[i], current);
        }
        uint64 periods64 = SafeCast.toUint64(periods);
        uint256 total = s.pricePerPeriod * periods;
        uint256 fee = (total * feeBps) / 10_000;
        uint64 start = expiresAt[streamId][msg.sender];
        if (start < block.timestamp) start = uint64(block.timestamp);
        until = start + periods64 * s.periodSeconds;
        expiresAt[streamId][msg.sender] = until;
        emit Subscribed(streamId, msg.sender, periods, total, fee, until);
        // interactions last; tokens go straight from the buyer, so the market never holds a balance
        if (fee > 0) s.token.safeTransferFrom(msg.sender, feeRecipient, fee);
        if (total > fee) s.token.safeTransferFrom(msg.sender, s.owner, total - fee);
    }

    /// @notice Sets the protocol fee (basis points, at most MAX_FEE_BPS) and who receives it.
    function setFee(uint16 newFeeBps, address recipient) external onlyRole(GOVERNANCE_ROLE) {
        if (newFeeBps > MAX_FEE_BPS) revert DataMarket__FeeTooHigh(newFeeBps, MAX_FEE_BPS);
        if (recipient == address(0)) revert DataMarket__ZeroAddress();
        feeBps = newFeeBps;
        feeRecipient = recipient;
        emit FeeChanged(newFeeBps, recipient);
    }

    /// @notice True while `buyer` holds an unexpired subscription to `streamId`.
    function isSubscribed(uint256 streamId, address buyer) external view returns (bool) {
        return expiresAt[streamId][buyer] > block.timestamp;
    }

    function streamOf(uint256 streamId) external view returns (Stream memory stream, uint256[] memory deviceIds) {
        return (_streams[streamId], _streamDevices[streamId]);
    }

    function _ownedStream(uint256 streamId) private view returns (Stream storage s) {
        s = _streams[streamId];
        if (s.owner == address(0)) revert DataMarket__UnknownStream(streamId);
        if (s.owner != msg.sender) revert DataMarket__NotStreamOwner(streamId, msg.sender);
    }
}
