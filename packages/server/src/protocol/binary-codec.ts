import { isUtf8 } from "node:buffer";
import { badRequest } from "./protocol-error.js";
import {
  decodeBinaryData,
  decodeJsonData,
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  parseInferHeader,
  type DecodedInput,
  type InferCall,
  type InputHeader,
  TEXT_INPUT,
} from "./infer-request.js";
import type { OutputTensor } from "@trtforge/runtime";

/**
 * The binary tensor data extension (Triton's `binary_tensor_data`): a body is a JSON header of
 * `headerLength` bytes followed by the raw tensors in the order of the inputs that carry a
 * `binary_data_size` parameter. Without the length the whole body is JSON.
 */
export function decodeInferBody(body: Buffer, headerLength: number | undefined): InferCall {
  if (headerLength !== undefined && headerLength > body.length) {
    throw badRequest(`Inference-Header-Content-Length is ${headerLength} but the body has only ${body.length} bytes`);
  }
  const jsonBytes = headerLength === undefined ? body : body.subarray(0, headerLength);
  let json: unknown;
  try {
    json = JSON.parse(jsonBytes.toString("utf8"));
  } catch (err) {
    throw badRequest(`the infer request header is not valid JSON: ${(err as Error).message}`);
  }
  if (nestsDeeperThan(json, MAX_JSON_DEPTH)) {
    throw badRequest(
      `the infer request header nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels; send "data" flat (row-major) or nested once per dimension of "shape"`,
    );
  }
  const header = parseInferHeader(json);
  const replaceInvalidUtf8 = header.parameters?.replace_invalid_utf8 === true;
  if (!replaceInvalidUtf8 && !isUtf8(jsonBytes)) {
    throw badRequest(
      `the infer request header is not valid UTF-8; send UTF-8 JSON, or set the request parameter "replace_invalid_utf8": true to have invalid bytes replaced by U+FFFD`,
    );
  }
  let offset = headerLength ?? body.length;
  const inputs: DecodedInput[] = header.inputs.map((input) => {
    checkTextDatatype(input);
    const size = input.parameters?.binary_data_size;
    if (size === undefined)
      return { name: input.name, datatype: input.datatype, shape: input.shape, data: decodeJsonData(input, replaceInvalidUtf8) };
    if (input.data !== undefined) throw badRequest(`input "${input.name}" has both data and binary_data_size; send one`);
    if (headerLength === undefined)
      throw badRequest(`input "${input.name}" has binary_data_size but the request has no Inference-Header-Content-Length header`);
    if (offset + size > body.length) {
      throw badRequest(
        `input "${input.name}": binary_data_size ${size} reaches past the end of the body (${body.length - offset} binary bytes left)`,
      );
    }
    const data = decodeBinaryData(input, body.subarray(offset, offset + size), replaceInvalidUtf8);
    offset += size;
    return { name: input.name, datatype: input.datatype, shape: input.shape, data };
  });
  if (offset !== body.length) {
    throw badRequest(`the body has ${body.length - offset} binary byte(s) that no input's binary_data_size accounts for`);
  }
  return {
    id: header.id,
    truncate: header.parameters?.truncate === true,
    replaceInvalidUtf8,
    inputs,
    outputs: header.outputs?.map((output) => ({
      name: output.name,
      binary: output.parameters?.binary_data ?? header.parameters?.binary_data_output === true,
      ...(output.parameters?.classification === undefined ? {} : { classCount: output.parameters.classification }),
    })),
    binaryByDefault: header.parameters?.binary_data_output === true,
  };
}

function checkTextDatatype(input: InputHeader): void {
  if (input.name !== TEXT_INPUT || input.datatype === "BYTES") return;
  throw badRequest(
    `input "${TEXT_INPUT}" has datatype ${input.datatype}, but text travels as BYTES: JSON strings in "data", or 4-byte little-endian length + UTF-8 bytes per element in binary; token ids go in "input_ids" (INT64 or INT32)`,
  );
}

/** Raw little-endian bytes of an output tensor; BYTES elements as 4-byte length + UTF-8. */
export function tensorBytes(tensor: OutputTensor): Buffer {
  switch (tensor.datatype) {
    case "FP32":
    case "INT64":
      return Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    case "BYTES": {
      const parts: Buffer[] = [];
      for (const value of tensor.data) {
        const text = Buffer.from(value, "utf8");
        const length = Buffer.alloc(4);
        length.writeUInt32LE(text.length, 0);
        parts.push(length, text);
      }
      return Buffer.concat(parts);
    }
  }
}

/** JSON `data` of an output tensor (flat, row-major). */
export function tensorJsonData(tensor: OutputTensor): (number | string)[] {
  switch (tensor.datatype) {
    case "FP32":
      return Array.from(tensor.data);
    case "INT64":
      return Array.from(tensor.data, (value) => Number(value));
    case "BYTES":
      return [...tensor.data];
  }
}
