// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {MakerRegistry} from "./MakerRegistry.sol";

/// @title DeviceMetadata
/// @notice The ERC-721 metadata of a device token as an on-chain JSON data URI (no server to trust or keep up).
/// @dev Maker and model names are restricted by MakerRegistry to characters that need no JSON escaping.
library DeviceMetadata {
    /// @notice `data:application/json;base64,…` with the device's maker, model, current key and the key's validity.
    function uri(
        MakerRegistry makers,
        uint256 tokenId,
        uint32 makerId,
        uint16 model,
        uint256 keyId,
        uint256 fromMs,
        uint256 untilMs
    ) internal view returns (string memory) {
        string memory makerName = "self-registered";
        string memory modelName = "unknown";
        if (makerId != 0) {
            (,, makerName) = makers.makerOf(makerId);
            modelName = makers.modelName(makerId, model);
        }
        bytes memory json = abi.encodePacked(
            '{"name":"machinefi device ',
            _hex(tokenId),
            '","description":"A machinefi device: its owner is paid for the proven data its key signs.","attributes":[',
            '{"trait_type":"maker","value":"',
            makerName,
            '"},{"trait_type":"maker id","value":',
            _dec(makerId),
            '},{"trait_type":"model","value":"',
            modelName,
            '"},{"trait_type":"model number","value":',
            _dec(model)
        );
        json = abi.encodePacked(
            json,
            '},{"trait_type":"key","value":"',
            _hex(keyId),
            '"},{"trait_type":"key valid from (ms)","value":',
            _dec(fromMs),
            '},{"trait_type":"key valid until (ms)","value":',
            _dec(untilMs),
            "}]}"
        );
        return string.concat("data:application/json;base64,", Base64.encode(json));
    }

    /// @dev OZ 5.7's Strings imports Bytes, which needs Cancun's mcopy; we compile for Shanghai.
    function _dec(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 n;
        for (uint256 t = v; t != 0; t /= 10) ++n;
        bytes memory out = new bytes(n);
        for (; v != 0; v /= 10) out[--n] = bytes1(uint8(48 + (v % 10)));
        return string(out);
    }

    /// @dev 0x and 64 lowercase hex digits.
    function _hex(uint256 v) private pure returns (string memory) {
        bytes memory out = new bytes(66);
        (out[0], out[1]) = ("0", "x");
        for (uint256 i = 65; i > 1; --i) {
            out[i] = bytes16("0123456789abcdef")[v & 15];
            v >>= 4;
        }
        return string(out);
    }
}
