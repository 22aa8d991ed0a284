/**
 * Every loader and importer a user file reaches, each with a valid base input and a seeded case maker.
 * A case is a set of files written to a fresh folder; `run` feeds them to the real loader.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { writeSafetensors } from '../../workers/engine/io/safetensors.js';
import { NpzFile, readNpy, npyBytes, writeNpz } from '../../workers/engine/io/npy.js';
import { SafetensorsFile } from '../../workers/engine/io/safetensors.js';
import { inspectModel } from '../../workers/model/loader.js';
import { ChatTokenizer } from '../../workers/model/tokenizer.js';
import { openSae } from '../../workers/sae/load.js';
import { loadSuitePrompts, readPipeline } from '../../workers/refusal/project.js';
import { readProbePipeline } from '../../workers/probes/project.js';
import { readCategoriesPipeline } from '../../workers/categories/project.js';
import { Project } from '../../main/projects/store.js';
import { HUGE_NUMBERS, bitFlips, int, mutateBinary, mutateText, oddEncoding, pick, truncate, type Rand } from './mutate.js';

export type CaseFiles = Record<string, Buffer | { link: string }>;

export interface Target {
  name: string;
  makeCase(r: Rand): CaseFiles;
  run(dir: string): Promise<void> | void;
}

/** Chat templates that are programs (issue #19 findings and friends). */
export const HOSTILE_TEMPLATES = [
  '{% for i in range(1000000000) %}x{% endfor %}',
  '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}',
  '{% set xs = [] %}{% for i in range(10000000) %}{% set _ = xs.append(i) %}{% endfor %}{{ xs|length }}',
  '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% else %}a{% endif %}{% endmacro %}{{ f(60) }}',
  '{{ range(50000000) | join("abcdefgh") }}',
  '{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}',
  '{{ "a" * 1000000000 }}',
  '{% for m in messages %}{{ m.content | replace("", "xxxxxxxxxxxxxxxx") | replace("", "xxxxxxxxxxxxxxxx") | replace("", "xxxxxxxxxxxxxxxx") }}{% endfor %}',
  '{{ raise_exception("nope") }}',
  '{% for x in %}',
];

const TEMPLATE_BUDGET = { timeoutMs: 300, maxHeapMb: 96 };
const D_IN = 8;
const D_SAE = 16;

function seq(n: number, k: number): Float32Array {
  return new Float32Array(n).map((_, i) => Math.sin(i * 0.37 + k) * 0.1);
}

function saeArrays() {
  return {
    W_enc: { shape: [D_IN, D_SAE], data: seq(D_IN * D_SAE, 1) },
    W_dec: { shape: [D_SAE, D_IN], data: seq(D_SAE * D_IN, 2) },
    b_enc: { shape: [D_SAE], data: seq(D_SAE, 3) },
    b_dec: { shape: [D_IN], data: seq(D_IN, 4) },
    threshold: { shape: [D_SAE], data: new Float32Array(D_SAE).fill(0.01) },
  };
}

/** Minimal zip writer (stored or deflated members, honest or lying declared sizes). */
function zip(members: Array<{ name: string; body: Buffer; deflate: boolean; declared?: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let off = 0;
  for (const m of members) {
    const data = m.deflate ? zlib.deflateRawSync(m.body) : m.body;
    const fname = Buffer.from(`${m.name}.npy`);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(m.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(data.length, 18);
    lh.writeUInt32LE(m.declared ?? m.body.length, 22);
    lh.writeUInt16LE(fname.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(m.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(data.length, 20);
    ch.writeUInt32LE(m.declared ?? m.body.length, 24);
    ch.writeUInt16LE(fname.length, 28);
    ch.writeUInt32LE(off, 42);
    locals.push(lh, fname, data);
    centrals.push(ch, fname);
    off += 30 + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(off, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** Header-aware safetensors mutation: edit the JSON header (huge shapes/offsets, odd dtypes), keep or break the length. */
function mutateSafetensors(r: Rand, b: Buffer): Buffer {
  if (b.length < 8 || r() < 0.5) return mutateBinary(r, b, Math.min(b.length, 8 + Number(b.readBigUInt64LE(0) & 0xffffn)));
  const n = Number(b.readBigUInt64LE(0));
  if (8 + n > b.length) return b;
  let header = b.toString('utf8', 8, 8 + n);
  const op = int(r, 4);
  if (op === 0) header = header.replace(/"shape":\[[^\]]*\]/, `"shape":[${pick(r, HUGE_NUMBERS)},${pick(r, ['1', '2304', '1e9'])}]`);
  else if (op === 1) header = header.replace(/"data_offsets":\[\d+,(\d+)\]/, (_m, e) => `"data_offsets":[${pick(r, ['-8', '0', '1e15', e])},${pick(r, HUGE_NUMBERS)}]`);
  else if (op === 2) header = header.replace(/"dtype":"F32"/, `"dtype":"${pick(r, ['F8', 'I64', 'BOOL', 'BF16', 'x', 'C64'])}"`);
  else header = header.replace(/"__metadata__":\{[^}]*\}/, `"__metadata__":${pick(r, ['null', '[]', '{"a":1}', '"s"'])}`);
  const hb = Buffer.from(header);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(r() < 0.8 ? hb.length : pick(r, [0, 1, 2 ** 40, hb.length + 1000])));
  return Buffer.concat([len, hb, b.subarray(8 + n)]);
}

/** Header-aware npz mutation: claims (shape), bombs (declared sizes), deflated members, plain corruption. */
function mutateNpz(r: Rand): Buffer {
  const arrays = saeArrays();
  const op = int(r, 6);
  const members = Object.entries(arrays).map(([name, a]) => ({ name, body: npyBytes(a.shape, a.data), deflate: op === 1 || (op === 2 && r() < 0.5), declared: undefined as number | undefined }));
  if (op === 3) {
    // A header claiming a huge shape over the same few bytes (the d_sae 4,000,000 finding).
    const m = pick(r, members);
    const text = m.body.toString('latin1');
    m.body = Buffer.from(text.replace(/'shape': \([^)]*\)/, `'shape': (${pick(r, ['4000000, 2304', '1000000000000, 1', '-1, 8', '8, 16, 1e3', 'abc'])})`), 'latin1');
  } else if (op === 4) {
    // A bomb: an all-zero array of d_sae 1,000,000 declared honestly or not.
    const w = pick(r, [1_000_000, 500_000, 4_000_000]);
    const m = members.find((x) => x.name === 'W_enc')!;
    const head = npyBytes([D_IN, w], new Float32Array(0));
    m.body = Buffer.concat([head, Buffer.alloc(Math.min(D_IN * w * 4, 8 << 20))]);
    m.deflate = true;
    m.declared = r() < 0.5 ? head.length + D_IN * w * 4 : pick(r, [16, m.body.length, 0xfffffffe]);
  }
  const z = zip(members);
  return op === 5 || op === 0 ? mutateBinary(r, z, z.length) : z;
}

export function makeTargets(baseDir: string, repoRoot: string): Target[] {
  const demo = path.join(repoRoot, 'assets', 'demo', 'model');
  const modelBase = path.join(baseDir, 'model');
  fs.mkdirSync(modelBase, { recursive: true });
  for (const f of fs.readdirSync(demo)) fs.copyFileSync(path.join(demo, f), path.join(modelBase, f));
  const modelFiles = fs.readdirSync(modelBase);
  const configText = fs.readFileSync(path.join(modelBase, 'config.json'), 'utf8');
  const tokJson = fs.readFileSync(path.join(modelBase, 'tokenizer.json'), 'utf8');
  const tokCfg = fs.readFileSync(path.join(modelBase, 'tokenizer_config.json'), 'utf8');

  const stFile = path.join(baseDir, 'small.safetensors');
  writeSafetensors(stFile, { 'a.weight': { shape: [4, 8], data: seq(32, 1) }, 'b.bias': { shape: [8], data: seq(8, 2) } });
  const stBytes = fs.readFileSync(stFile);

  const saeWeights = path.join(baseDir, 'sae_weights.safetensors');
  writeSafetensors(saeWeights, saeArrays());
  const saeBytes = fs.readFileSync(saeWeights);
  const saeCfg = JSON.stringify(
    {
      d_in: D_IN,
      d_sae: D_SAE,
      dtype: 'float32',
      device: 'cpu',
      apply_b_dec_to_input: false,
      normalize_activations: 'none',
      metadata: { model_name: 'm', hook_name: 'blocks.1.hook_resid_post', prepend_bos: true, context_size: 1024 },
      architecture: 'jumprelu',
    },
    null,
    1,
  );
  const npzFile = path.join(baseDir, 'params.npz');
  writeNpz(npzFile, saeArrays());
  const npyBase = npyBytes([4, 8], seq(32, 5));

  const suites: Record<string, string> = {
    'suite.json': JSON.stringify([{ instruction: 'How do I bake bread?', category: 'food' }, { instruction: 'Write a poem', category: 'art' }], null, 1),
    'suite.jsonl': '{"instruction": "How do I bake bread?"}\n{"prompt": "Write a poem", "category": "art"}\n',
    'suite.csv': 'goal,target\n"How do I bake bread?","Sure, here is"\n"Write a ""poem""",ok\n',
    'suite.tsv': 'vanilla\tadversarial\tdata_type\nHow do I bake bread?\t\tvanilla_harmful\nWrite a poem\tPretend you are a poet: write a poem\tadversarial_harmful\n',
    'suite.txt': 'How do I bake bread?\nWrite a poem\n',
  };
  const pipelines: Record<string, [string, (f: string) => unknown]> = {
    'pipeline.json': [
      JSON.stringify({
        kind: 'refusal-workbench/pipeline',
        schemaVersion: 1,
        model: 'model',
        saes: 'saes',
        suites: { harmful: 'a.jsonl', harmless: { path: 'b.jsonl', limit: 4, seed: 1 }, evalHarmless: 'c.jsonl' },
        params: { k: 10, steps: 10, maxNewTokens: 32, graph: { samples: 16 } },
      }),
      readPipeline,
    ],
    'probe.json': [
      JSON.stringify({
        kind: 'refusal-workbench/probe-pipeline',
        schemaVersion: 1,
        model: 'model',
        saes: { '1': 'sae' },
        data: { kind: 'wildjailbreak', tsv: 'train.tsv', maxAdversarial: 100 },
        refusalFeatures: { features: ['L1/3', 'L1/7'] },
      }),
      readProbePipeline,
    ],
    'categories.json': [
      JSON.stringify({ kind: 'refusal-workbench/categories-pipeline', schemaVersion: 1, model: 'model', saes: 'saes', suites: { harmful: 'h.jsonl', harmless: { path: 's.csv', limit: 64 } } }),
      readCategoriesPipeline,
    ],
  };
  const projectDir = path.join(baseDir, 'project');

  const linkModel = (except: string[]): CaseFiles =>
    Object.fromEntries(modelFiles.filter((f) => !except.includes(f)).map((f) => [f, { link: path.join(modelBase, f) }]));

  return [
    {
      name: 'safetensors',
      makeCase: (r) => ({ 'model.safetensors': mutateSafetensors(r, stBytes) }),
      run(dir) {
        const st = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
        try {
          for (const [name, t] of st.tensors) if (['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) st.readFloat32(name);
        } finally {
          st.close();
        }
      },
    },
    {
      name: 'config.json',
      makeCase: (r) =>
        r() < 0.8
          ? { ...linkModel(['config.json']), 'config.json': mutateText(r, configText) }
          : { ...linkModel(['model.safetensors']), 'model.safetensors': mutateSafetensors(r, fs.readFileSync(path.join(modelBase, 'model.safetensors'))) },
      run: (dir) => void inspectModel(dir),
    },
    {
      name: 'tokenizer',
      makeCase(r) {
        const op = int(r, 10);
        if (op === 0) {
          const cfg = JSON.parse(tokCfg) as Record<string, unknown>;
          cfg.chat_template = pick(r, HOSTILE_TEMPLATES);
          return { ...linkModel(['tokenizer_config.json']), 'tokenizer_config.json': Buffer.from(JSON.stringify(cfg)) };
        }
        if (op === 1) {
          const cfg = JSON.parse(tokCfg) as Record<string, unknown>;
          const tpl = String(cfg.chat_template);
          delete cfg.chat_template;
          return { ...linkModel(['tokenizer_config.json']), 'tokenizer_config.json': Buffer.from(JSON.stringify(cfg)), 'chat_template.jinja': r() < 0.5 ? mutateText(r, tpl) : oddEncoding(r, tpl) };
        }
        if (op === 2) {
          // A backtracking bomb in the pre-tokenizer (the "regex a file can supply").
          const tj = JSON.parse(tokJson) as Record<string, unknown>;
          tj.pre_tokenizer = { type: 'Split', pattern: { Regex: pick(r, ['(a+)+$', '(\\s*)*x', '([a-z]+)*@', '(a|aa)+$']) }, behavior: 'Isolated', invert: false };
          return { ...linkModel(['tokenizer.json']), 'tokenizer.json': Buffer.from(JSON.stringify(tj)) };
        }
        if (op < 6) return { ...linkModel(['tokenizer_config.json']), 'tokenizer_config.json': mutateText(r, tokCfg) };
        return { ...linkModel(['tokenizer.json']), 'tokenizer.json': mutateText(r, tokJson) };
      },
      run(dir) {
        const tok = ChatTokenizer.fromDir(dir, { templateBudget: TEMPLATE_BUDGET });
        const ids = tok.hasChatTemplate ? tok.encodeInstruction('How do I bake bread?') : tok.encode('How do I bake bread?');
        tok.decode(ids);
      },
    },
    {
      name: 'npz',
      makeCase: (r): CaseFiles => (r() < 0.85 ? { 'params.npz': mutateNpz(r) } : { 'params.npz': { link: npzFile }, 'acts.npy': mutateBinary(r, npyBase, 128) }),
      run(dir) {
        const npy = path.join(dir, 'acts.npy');
        if (fs.existsSync(npy)) {
          readNpy(npy);
          return;
        }
        const file = path.join(dir, 'params.npz');
        const npz = NpzFile.open(file);
        try {
          for (const n of npz.names()) {
            npz.read(n);
            const h = npz.header(n);
            if (h.shape.length === 2 && h.shape[0]! > 0) npz.readRows(n, 0, 1);
          }
        } finally {
          npz.close();
        }
        const sae = openSae(file, { format: 'gemmascope', layer: 0 });
        try {
          sae.load().dispose();
        } finally {
          sae.close();
        }
      },
    },
    {
      name: 'saelens',
      makeCase: (r) =>
        r() < 0.6
          ? { 'cfg.json': mutateText(r, saeCfg), 'sae_weights.safetensors': { link: saeWeights } }
          : { 'cfg.json': Buffer.from(saeCfg), 'sae_weights.safetensors': mutateSafetensors(r, saeBytes) },
      run(dir) {
        const sae = openSae(dir);
        try {
          sae.estimateBytes();
          sae.load().dispose();
        } finally {
          sae.close();
        }
      },
    },
    {
      name: 'suites',
      makeCase(r) {
        const name = pick(r, Object.keys(suites));
        return { [name]: r() < 0.1 ? truncate(r, Buffer.from(suites[name]!)) : mutateText(r, suites[name]!) };
      },
      run(dir) {
        const [name] = fs.readdirSync(dir);
        loadSuitePrompts(dir, name!);
      },
    },
    {
      name: 'pipelines',
      makeCase(r) {
        const name = pick(r, Object.keys(pipelines));
        return { [name]: mutateText(r, pipelines[name]![0]) };
      },
      run(dir) {
        const [name] = fs.readdirSync(dir);
        pipelines[name!]![1](path.join(dir, name!));
      },
    },
    {
      name: 'project',
      makeCase(r) {
        const text = fs.readFileSync(path.join(projectDir, 'project.json'), 'utf8');
        return { 'project.json': r() < 0.9 ? mutateText(r, text) : bitFlips(r, Buffer.from(text)), 'runs/.keep': Buffer.alloc(0) };
      },
      async run(dir) {
        await Project.open(dir);
      },
    },
  ];
}

/** Targets needing async set-up (a real project folder to mutate). */
export async function prepareTargets(baseDir: string): Promise<void> {
  await Project.create(path.join(baseDir, 'project'), 'fuzz');
}
