#!/usr/bin/env node
// Runs an ONNX model in onnxruntime-node on .npy inputs and writes .npy outputs, so that
// aimc's numerics and speed can be compared with a peer runtime (tools/zoo_check.py).
//
//   node tools/ort/run.js MODEL.onnx --input NAME=FILE.npy ... --output-dir DIR
//        [--threads N] [--repeat R]
//
// Prints one JSON line: {"outputs": [...], "seconds": [per-repeat run times]}. Exit 2 on bad
// input. Only float32, int64 and int32 .npy arrays in C order are read and written.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const DTYPES = {'<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array],
                '<i4': ['int32', Int32Array]};

function fail(msg) { process.stderr.write(`ort/run.js: ${msg}\n`); process.exit(2); }

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') fail(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape || /'fortran_order':\s*True/.test(header)) fail(`${file}: unsupported header`);
  const kind = DTYPES[descr[1]];
  if (!kind) fail(`${file}: dtype ${descr[1]} is not float32/int64/int32`);
  const dims = shape[1].split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  const offset = start + headerLen;
  const bytes = buf.subarray(offset);
  const data = new kind[1](bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return new ort.Tensor(kind[0], data, dims);
}

function writeNpy(file, tensor) {
  const descr = Object.keys(DTYPES).find(k => DTYPES[k][0] === tensor.type);
  if (!descr) fail(`output type ${tensor.type} is not float32/int64/int32`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 1) fail('usage: run.js MODEL.onnx --input NAME=FILE.npy --output-dir DIR');
  const model = args[0];
  const feeds = {};
  let outDir = null, threads = 1, repeat = 1;
  for (let i = 1; i < args.length; ++i) {
    const a = args[i];
    const value = () => { if (i + 1 >= args.length) fail(`${a} needs a value`); return args[++i]; };
    if (a === '--input') {
      const v = value(); const eq = v.indexOf('=');
      if (eq < 1) fail(`--input ${v}: expected NAME=FILE.npy`);
      feeds[v.slice(0, eq)] = readNpy(v.slice(eq + 1));
    } else if (a === '--output-dir') outDir = value();
    else if (a === '--threads') threads = Math.max(1, Math.min(64, Number(value())));
    else if (a === '--repeat') repeat = Math.max(1, Math.min(1000, Number(value())));
    else fail(`unknown argument ${a}`);
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all'});
  let results = null;
  const seconds = [];
  for (let r = 0; r < repeat; ++r) {
    const t0 = process.hrtime.bigint();
    results = await session.run(feeds);
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const names = Object.keys(results);
  if (outDir) {
    fs.mkdirSync(outDir, {recursive: true});
    for (const n of names) writeNpy(path.join(outDir, n.replace(/[^A-Za-z0-9._-]/g, '_') + '.npy'), results[n]);
  }
  process.stdout.write(JSON.stringify({outputs: names, seconds}) + '\n');
}

main().catch(e => fail(e.message || String(e)));
