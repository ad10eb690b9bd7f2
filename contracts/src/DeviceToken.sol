// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC165, IERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

/// @title DeviceToken
/// @notice The ERC-721 surface of DeviceRegistry: transfers, safe transfers, approvals and operators, with
/// OpenZeppelin 5's interfaces, errors and receiver check, and the same rules as its ERC721.
/// @dev Why not inherit OpenZeppelin's ERC721: (1) it keeps an owner slot of its own per token, and a device also
/// needs its maker, model and key validity, which would make a batch registration two new slots per device instead
/// of one; here the owner lives in the derived contract's packed slot (`_ownerOf`/`_setOwner`). (2) OZ 5.7's ERC721
/// imports Strings → Bytes, which uses the Cancun opcode mcopy, and we compile for Shanghai (IoTeX).
abstract contract DeviceToken is ERC165, IERC721, IERC721Metadata, IERC721Errors {
    mapping(address owner => uint256) private _balances;
    mapping(uint256 tokenId => address) private _tokenApprovals;
    mapping(address owner => mapping(address operator => bool)) private _operatorApprovals;

    /// @dev The owner of `tokenId`, zero when it does not exist.
    function _ownerOf(uint256 tokenId) internal view virtual returns (address);

    /// @dev Stores `to` as owner of an existing or new token.
    function _setOwner(uint256 tokenId, address to) internal virtual;

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view virtual override(ERC165, IERC165) returns (bool) {
        return interfaceId == type(IERC721).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || super.supportsInterface(interfaceId);
    }

    /// @notice Collection name.
    function name() external pure returns (string memory) {
        return "machinefi device";
    }

    /// @notice Collection symbol.
    function symbol() external pure returns (string memory) {
        return "MFID";
    }

    /// @notice Number of device tokens `owner` holds.
    function balanceOf(address owner) public view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _balances[owner];
    }

    /// @notice Who holds device token `tokenId` (and is paid for its proven data).
    function ownerOf(uint256 tokenId) public view returns (address) {
        return _requireOwned(tokenId);
    }

    /// @notice Lets `to` transfer `tokenId` (and rotate or revoke its key). Owner or operator only.
    function approve(address to, uint256 tokenId) external {
        address owner = _requireOwned(tokenId);
        if (owner != msg.sender && !_operatorApprovals[owner][msg.sender]) revert ERC721InvalidApprover(msg.sender);
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    /// @notice The account approved for `tokenId`.
    function getApproved(uint256 tokenId) public view returns (address) {
        _requireOwned(tokenId);
        return _tokenApprovals[tokenId];
    }

    /// @notice Lets `operator` manage all of the caller's device tokens (or stops it).
    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert ERC721InvalidOperator(operator);
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @notice Whether `operator` manages all of `owner`'s device tokens.
    function isApprovedForAll(address owner, address operator) public view returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @notice Moves `tokenId` from `from` to `to`; from then on `to` is paid for the device's claims.
    function transferFrom(address from, address to, uint256 tokenId) public {
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        address owner = _requireOwned(tokenId);
        if (!_isAuthorized(owner, msg.sender, tokenId)) revert ERC721InsufficientApproval(msg.sender, tokenId);
        if (owner != from) revert ERC721IncorrectOwner(from, tokenId, owner);
        delete _tokenApprovals[tokenId];
        unchecked {
            --_balances[from];
            ++_balances[to];
        }
        _setOwner(tokenId, to);
        emit Transfer(from, to, tokenId);
    }

    /// @notice transferFrom, then checks that a contract recipient implements onERC721Received.
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /// @notice transferFrom, then checks that a contract recipient implements onERC721Received (passing `data`).
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, data);
    }

    /// @dev Mints without a receiver check (registrations name owners explicitly, often in batches).
    function _mint(address to, uint256 tokenId) internal {
        unchecked {
            ++_balances[to];
        }
        emit Transfer(address(0), to, tokenId);
    }

    function _isAuthorized(address owner, address spender, uint256 tokenId) internal view returns (bool) {
        return spender == owner || _operatorApprovals[owner][spender] || _tokenApprovals[tokenId] == spender;
    }

    function _requireOwned(uint256 tokenId) internal view returns (address owner) {
        owner = _ownerOf(tokenId);
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
    }
}
