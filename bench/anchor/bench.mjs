// Anchor benchmark: the real @mastra/daytona (pinned in package.json) driving
// a cmd/daytonatest server, in the scenarios of the Go benchmarks
// (bench_test.go), so that ours/anchor ratios can be computed from one run.
//
//   DAYTONA_API_URL=... DAYTONA_API_KEY=... node bench.mjs
//
// Prints one JSON line per scenario on stdout, then a human table. See
// README.md. Environment knobs (all optional):
//
//   ANCHOR_SCENARIOS     comma list of cold,single,firstbyte,stream,burst (default: all, in that order)
//   ANCHOR_SINGLE_RUNS   runs of `echo hi` (default 20)
//   ANCHOR_BURSTS        burst sizes (default 8,64,256)
//   ANCHOR_BURST_REPS    repetitions per burst size, as SIZE:REPS (default 8:5,64:5,256:3)
//   ANCHOR_STREAM_REPS   64 MiB streams (default 3)
//   ANCHOR_FIRSTBYTE_RUNS  first-byte runs (default 5)
//   ANCHOR_FIRSTBYTE_SLEEP seconds the first-byte command sleeps after its line (default 2)

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance } from 'node:perf_hooks';
import { DaytonaSandbox } from '@mastra/daytona';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------- config

const API_URL = process.env.DAYTONA_API_URL;
const API_KEY = process.env.DAYTONA_API_KEY;
if (!API_URL || !API_KEY) {
  console.error('bench.mjs: set DAYTONA_API_URL and DAYTONA_API_KEY (printed by `go run ./cmd/daytonatest`)');
  process.exit(2);
}
// The fake's test controls live at the server root: {URL}/_daytonatest/...
const SERVER_URL = API_URL.replace(/\/api\/?$/, '');

const intEnv = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: want a positive integer, got ${v}`);
  return n;
};
const SCENARIOS = (process.env.ANCHOR_SCENARIOS || 'cold,single,firstbyte,stream,burst').split(',').map((s) => s.trim()).filter(Boolean);
const SINGLE_RUNS = intEnv('ANCHOR_SINGLE_RUNS', 20);
const BURSTS = (process.env.ANCHOR_BURSTS || '8,64,256').split(',').map(Number);
const BURST_REPS = Object.fromEntries(
  (process.env.ANCHOR_BURST_REPS || '8:5,64:5,256:3').split(',').map((kv) => kv.split(':').map(Number)),
);
const STREAM_REPS = intEnv('ANCHOR_STREAM_REPS', 3);
const FIRSTBYTE_RUNS = intEnv('ANCHOR_FIRSTBYTE_RUNS', 5);
const FIRSTBYTE_SLEEP = intEnv('ANCHOR_FIRSTBYTE_SLEEP', 2);

// Same command and byte count as BenchmarkStream64MiB (bench_test.go):
// 671088 lines of 100 x's and a last line of 64.
const STREAM_COMMAND = String.raw`head -c 67108864 /dev/zero | tr '\0' 'x' | fold -w 100`;
const STREAM_BYTES = 67108864 + Math.floor(67108864 / 100);
// The daemon (and the fake) ends a last line without a newline with one,
// so the SDK delivers one byte more (BENCHMARKS.md, "Output checks").
const STREAM_BYTES_RECEIVED = STREAM_BYTES + 1;

// ---------------------------------------------------------------- helpers

const MiB = 1024 * 1024;

// gc(): node --expose-gc, else turned on at run time.
const gc = (() => {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
})();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sorted(xs) {
  return [...xs].sort((a, b) => a - b);
}
function median(xs) {
  const s = sorted(xs);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
// Nearest-rank percentile.
function pct(xs, p) {
  const s = sorted(xs);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const r1 = (x) => Math.round(x * 10) / 10;
const r2 = (x) => Math.round(x * 100) / 100;
const r3 = (x) => Math.round(x * 1000) / 1000;

async function control(method, path) {
  const res = await fetch(`${SERVER_URL}/_daytonatest/${path}`, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}` },
  });
  if (!res.ok) throw new Error(`${method} /_daytonatest/${path}: HTTP ${res.status}: ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}
const resetRequests = () => control('DELETE', 'requests');
const getCounts = () => control('GET', 'counts');

// settle waits until the fake has served every request (follow streams
// aside) and seen no new one for 100 ms: 0.4.1 resolves executeCommand
// while the second getSessionCommand (from the stream-end hook) may still
// be in flight, and it must be counted in the scenario that caused it.
async function settle() {
  const deadline = Date.now() + 15000;
  let last = -1;
  for (;;) {
    const { requests } = await control('GET', 'requests');
    const inFlight = requests.filter((r) => r.status === 0 && r.op !== 'follow-logs').length;
    if (inFlight === 0 && requests.length === last) return;
    last = requests.length;
    if (Date.now() > deadline) throw new Error(`fake did not settle: ${inFlight} requests in flight`);
    await sleep(100);
  }
}

function addCounts(acc, counts) {
  for (const [op, n] of Object.entries(counts)) acc[op] = (acc[op] || 0) + n;
  return acc;
}
const total = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);
function perCmd(counts, cmds) {
  return Object.fromEntries(Object.entries(counts).sort().map(([op, n]) => [op, r2(n / cmds)]));
}

function load() {
  return os.loadavg().map(r2);
}

// Machine CPU accounting (Linux /proc), to say how much of the machine other
// jobs used during a scenario: the machine is shared. Ticks are USER_HZ
// (100 on Linux). The server's share includes the shells it started and
// reaped (cutime, cstime). DAYTONATEST_PID is set by run.sh; without it the
// server counts as "other".
const SERVER_PID = process.env.DAYTONATEST_PID;
const HZ = 100;
function cpuSnap() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    const all = f.slice(0, 8).reduce((a, b) => a + b, 0);
    let server = null;
    if (SERVER_PID) {
      const st = readFileSync(`/proc/${SERVER_PID}/stat`, 'utf8');
      const x = st.slice(st.lastIndexOf(')') + 2).split(' ').map(Number); // fields from 3 (state) on
      server = x[11] + x[12] + x[13] + x[14]; // utime stime cutime cstime
    }
    const c = process.cpuUsage();
    return { busy: all - idle, all, server, client: ((c.user + c.system) / 1e6) * HZ };
  } catch {
    return null;
  }
}
// cpuShare returns, over the interval, the percentage of the machine's CPU
// capacity (all cores = 100) used by everything, by this client, by the
// server and its shells, and by the rest ("other": other jobs on the VM).
function cpuShare(a, b) {
  if (!a || !b || b.all === a.all) return null;
  const cap = b.all - a.all;
  const pctOf = (x) => r1((100 * x) / cap);
  const busy = b.busy - a.busy;
  const client = b.client - a.client;
  const server = a.server === null ? 0 : b.server - a.server;
  return {
    machineBusyPct: pctOf(busy),
    clientPct: pctOf(client),
    serverPct: a.server === null ? null : pctOf(server),
    otherPct: pctOf(Math.max(0, busy - client - server)),
  };
}

// ---------------------------------------------------------------- sandbox

const sandbox = new DaytonaSandbox({
  id: `anchor-bench-${Date.now().toString(36)}`,
  apiUrl: API_URL,
  apiKey: API_KEY,
});

// 0.4.1 never deletes the session it creates per command; the fake keeps
// a shell for each. Like the Go anchor (cleanAnchorSessions), delete them
// between repetitions, outside the timings, and leave those requests out
// of the counts (the log is reset afterwards).
async function cleanSessions() {
  const proc = sandbox.daytona.process;
  const ids = (await proc.listSessions()).map((s) => s.sessionId).filter((id) => id.startsWith('mastra-proc-'));
  let i = 0;
  const worker = async () => {
    while (i < ids.length) {
      const id = ids[i++];
      await proc.deleteSession(id).catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await settle();
  await resetRequests();
}

async function echoHi() {
  const t0 = performance.now();
  const res = await sandbox.executeCommand('echo hi');
  const ms = performance.now() - t0;
  if (res.exitCode !== 0 || res.stdout !== 'hi\n') {
    throw new Error(`echo hi: exit ${res.exitCode}, stdout ${JSON.stringify(res.stdout)}, stderr ${JSON.stringify(res.stderr)}`);
  }
  return ms;
}

// ---------------------------------------------------------------- scenarios

const results = [];
let scenarioSnap = null; // taken by begin(), consumed by emit()
function begin() {
  scenarioSnap = cpuSnap();
  return load();
}
function emit(rec) {
  if (scenarioSnap) rec.cpu = cpuShare(scenarioSnap, cpuSnap());
  scenarioSnap = null;
  results.push(rec);
  process.stdout.write(JSON.stringify(rec) + '\n');
}

async function scenarioCold() {
  // The first executeCommand on a new DaytonaSandbox: find by name (404),
  // create, poll until started, toolbox URL, `pwd`, then the command.
  await resetRequests();
  const l0 = begin();
  const ms = await echoHi();
  await settle();
  const counts = await getCounts();
  emit({ scenario: 'cold', runs: 1, ms: r1(ms), requests: total(counts), counts, load: [l0, load()] });
}

async function scenarioSingle() {
  for (let i = 0; i < 3; i++) await echoHi(); // warm-up
  await cleanSessions();
  const l0 = begin();
  const times = [];
  const counts = {};
  for (let i = 0; i < SINGLE_RUNS; i++) {
    times.push(await echoHi());
    await settle();
    addCounts(counts, await getCounts());
    await cleanSessions();
  }
  emit({
    scenario: 'single',
    command: 'echo hi',
    runs: SINGLE_RUNS,
    medianMs: r1(median(times)),
    p90Ms: r1(pct(times, 90)),
    minMs: r1(Math.min(...times)),
    maxMs: r1(Math.max(...times)),
    requests: total(counts),
    requestsPerCmd: r2(total(counts) / SINGLE_RUNS),
    countsPerCmd: perCmd(counts, SINGLE_RUNS),
    load: [l0, load()],
  });
  return median(times);
}

async function scenarioBurst(n, singleMedian) {
  const reps = BURST_REPS[n] || 3;
  const burst = async () => {
    const per = [];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, async () => per.push(await echoHi())));
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    return { wall, per, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  await burst(); // warm-up: the HTTP agent opens its sockets
  await cleanSessions();
  const l0 = begin();
  const walls = [];
  const cpus = [];
  const perAll = [];
  const counts = {};
  for (let i = 0; i < reps; i++) {
    const { wall, per, cpuMs } = await burst();
    walls.push(wall);
    cpus.push(cpuMs);
    perAll.push(...per);
    await settle();
    addCounts(counts, await getCounts());
    await cleanSessions();
  }
  const wallMedian = median(walls);
  emit({
    scenario: `burst${n}`,
    command: 'echo hi',
    concurrency: n,
    reps,
    wallMedianMs: r1(wallMedian),
    wallMinMs: r1(Math.min(...walls)),
    wallMaxMs: r1(Math.max(...walls)),
    perCmdMs: r2(wallMedian / n),
    cmdLatencyMedianMs: r1(median(perAll)),
    cmdLatencyMaxMs: r1(Math.max(...perAll)),
    clientCpuMedianMs: r1(median(cpus)),
    burstOverSingle: singleMedian ? r2(wallMedian / singleMedian) : null,
    requests: total(counts),
    requestsPerCmd: r2(total(counts) / (n * reps)),
    countsPerCmd: perCmd(counts, n * reps),
    load: [l0, load()],
  });
}

async function scenarioStream() {
  await echoHi();
  await cleanSessions();
  const l0 = begin();
  const reps = [];
  const counts = {};
  for (let i = 0; i < STREAM_REPS; i++) {
    gc();
    await sleep(50);
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      if (m.rss > peakRss) peakRss = m.rss;
      if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
    }, 5);
    let bytes = 0;
    let errBytes = 0;
    let chunks = 0;
    let tFirst = 0;
    let tLast = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const res = await sandbox.executeCommand(STREAM_COMMAND, [], {
      onStdout: (s) => {
        const t = performance.now();
        if (!tFirst) tFirst = t;
        tLast = t;
        bytes += Buffer.byteLength(s);
        chunks++;
      },
      onStderr: (s) => {
        errBytes += Buffer.byteLength(s);
      },
    });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    clearInterval(sampler);
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    const ok = res.exitCode === 0 && bytes === STREAM_BYTES_RECEIVED && errBytes === 0;
    if (!ok) {
      console.error(`stream: exit ${res.exitCode}, ${bytes} stdout bytes (want ${STREAM_BYTES_RECEIVED}), ${errBytes} stderr bytes`);
    }
    reps.push({
      ms,
      bytes,
      ok,
      chunks,
      cpuMs: (cpu.user + cpu.system) / 1000,
      ttfbMs: tFirst - t0,
      lastByteMs: tLast - t0,
      peakRssMiB: peakRss / MiB,
      baseRssMiB: base.rss / MiB,
      peakHeapMiB: peakHeap / MiB,
      baseHeapMiB: base.heapUsed / MiB,
      retained: res.stdout.length,
      truncated: res.stdoutTruncated,
    });
    await settle();
    addCounts(counts, await getCounts());
    await cleanSessions();
  }
  const med = (k) => median(reps.map((r) => r[k]));
  const msMed = med('ms');
  emit({
    scenario: 'stream64MiB',
    command: STREAM_COMMAND,
    reps: STREAM_REPS,
    bytesReceived: reps[0].bytes,
    allOk: reps.every((r) => r.ok),
    medianMs: r1(msMed),
    minMs: r1(Math.min(...reps.map((r) => r.ms))),
    maxMs: r1(Math.max(...reps.map((r) => r.ms))),
    // MB = 1e6 bytes, over the whole executeCommand (as b.SetBytes in Go).
    mbps: r1(STREAM_BYTES / 1e6 / (msMed / 1000)),
    // Over the first to the last onStdout callback: streaming proper,
    // without the round trips before and the close delay after.
    mbpsFirstToLastByte: r1(STREAM_BYTES / 1e6 / ((med('lastByteMs') - med('ttfbMs')) / 1000)),
    ttfbMedianMs: r1(med('ttfbMs')),
    lastByteMedianMs: r1(med('lastByteMs')),
    chunksMedian: med('chunks'),
    // CPU time of this Node process (client) per stream, user + system.
    clientCpuMedianMs: r1(med('cpuMs')),
    peakRssMiB: r1(Math.max(...reps.map((r) => r.peakRssMiB))),
    baseRssMiB: r1(median(reps.map((r) => r.baseRssMiB))),
    peakHeapMiB: r1(Math.max(...reps.map((r) => r.peakHeapMiB))),
    baseHeapMiB: r1(median(reps.map((r) => r.baseHeapMiB))),
    maxRssLifetimeMiB: r1(process.resourceUsage().maxRSS / 1024),
    retainedStdoutBytes: reps[0].retained,
    stdoutTruncated: reps[0].truncated,
    requests: total(counts),
    requestsPerCmd: r2(total(counts) / STREAM_REPS),
    countsPerCmd: perCmd(counts, STREAM_REPS),
    load: [l0, load()],
  });
}

async function scenarioFirstByte() {
  const command = `echo ready; sleep ${FIRSTBYTE_SLEEP}`;
  await echoHi();
  await cleanSessions();
  const l0 = begin();
  const ttfb = [];
  const totals = [];
  const counts = {};
  for (let i = 0; i < FIRSTBYTE_RUNS; i++) {
    let tFirst = 0;
    const t0 = performance.now();
    const res = await sandbox.executeCommand(command, [], {
      onStdout: () => {
        if (!tFirst) tFirst = performance.now();
      },
    });
    totals.push(performance.now() - t0);
    if (res.exitCode !== 0 || res.stdout !== 'ready\n' || !tFirst) {
      throw new Error(`first byte: exit ${res.exitCode}, stdout ${JSON.stringify(res.stdout)}`);
    }
    ttfb.push(tFirst - t0);
    await settle();
    addCounts(counts, await getCounts());
    await cleanSessions();
  }
  emit({
    scenario: 'firstbyte',
    command,
    runs: FIRSTBYTE_RUNS,
    ttfbMedianMs: r1(median(ttfb)),
    ttfbP90Ms: r1(pct(ttfb, 90)),
    ttfbMinMs: r1(Math.min(...ttfb)),
    ttfbMaxMs: r1(Math.max(...ttfb)),
    totalMedianMs: r1(median(totals)),
    requests: total(counts),
    requestsPerCmd: r2(total(counts) / FIRSTBYTE_RUNS),
    countsPerCmd: perCmd(counts, FIRSTBYTE_RUNS),
    load: [l0, load()],
  });
}

// ---------------------------------------------------------------- main

function versions() {
  const v = (p) => {
    try {
      return require(`${p}/package.json`).version;
    } catch {
      return null;
    }
  };
  // The SDK is the one @mastra/daytona resolves (nested or hoisted).
  let sdk = null;
  try {
    const daytonaMain = require.resolve('@mastra/daytona');
    sdk = createRequire(daytonaMain)('@daytonaio/sdk/package.json').version;
  } catch {
    sdk = v('@daytonaio/sdk');
  }
  return { node: process.version, mastraDaytona: v('@mastra/daytona'), mastraCore: v('@mastra/core'), daytonaSdk: sdk };
}

function table() {
  const by = Object.fromEntries(results.map((r) => [r.scenario, r]));
  const rows = [];
  const row = (...cells) => rows.push(cells.map(String));
  const ops = (r) => Object.entries(r.countsPerCmd || r.counts || {}).map(([k, n]) => `${k}=${n}`).join(' ');
  // CPU of the machine during the scenario, % of all cores: client / server+shells / other jobs.
  const cpu = (r) => (r.cpu ? `${r.cpu.clientPct}/${r.cpu.serverPct ?? '-'}/${r.cpu.otherPct}` : '-');
  row('scenario', 'figure', 'value', 'req/cmd', 'cpu% c/s/other', 'requests by op (per cmd)');
  if (by.cold) row('cold start', 'first echo hi (create + start + cmd)', `${by.cold.ms} ms`, by.cold.requests, cpu(by.cold), ops(by.cold));
  if (by.single) row(`single (n=${by.single.runs})`, 'echo hi median / p90', `${by.single.medianMs} / ${by.single.p90Ms} ms`, by.single.requestsPerCmd, cpu(by.single), ops(by.single));
  for (const n of BURSTS) {
    const b = by[`burst${n}`];
    if (!b) continue;
    row(`burst ${n} (reps=${b.reps})`, 'wall median (min-max); burst/single', `${b.wallMedianMs} ms (${b.wallMinMs}-${b.wallMaxMs}); ${b.burstOverSingle ?? '-'}x`, b.requestsPerCmd, cpu(b), ops(b));
  }
  if (by.stream64MiB) {
    const s = by.stream64MiB;
    row(`64 MiB stream (reps=${s.reps})`, 'time median (min-max); MB/s whole op (first-to-last byte)', `${s.medianMs} ms (${s.minMs}-${s.maxMs}); ${s.mbps} (${s.mbpsFirstToLastByte}) MB/s`, s.requestsPerCmd, cpu(s), ops(s));
    row('', 'peak RSS / heapUsed (base before)', `${s.peakRssMiB} / ${s.peakHeapMiB} MiB (${s.baseRssMiB} / ${s.baseHeapMiB})`, '', '', s.allOk ? 'output checked' : 'OUTPUT MISMATCH');
    row('', 'client CPU per stream; ttfb', `${s.clientCpuMedianMs} ms; ${s.ttfbMedianMs} ms`, '', '', '');
  }
  if (by.firstbyte) {
    const f = by.firstbyte;
    row(`first byte (n=${f.runs})`, 'ttfb median / p90; total', `${f.ttfbMedianMs} / ${f.ttfbP90Ms} ms; ${f.totalMedianMs} ms`, f.requestsPerCmd, cpu(f), ops(f));
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()).join('\n');
}

async function main() {
  const [latency, closeDelay] = await Promise.all([control('GET', 'latency'), control('GET', 'close-delay')]);
  emit({
    scenario: 'env',
    date: new Date().toISOString(),
    ...versions(),
    latency: latency.latency,
    closeDelay: closeDelay.closeDelay,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    load: load(),
  });
  let singleMedian = null;
  if (!SCENARIOS.includes('cold')) await echoHi(); // start the sandbox anyway
  for (const s of SCENARIOS) {
    switch (s) {
      case 'cold':
        await scenarioCold();
        break;
      case 'single':
        singleMedian = await scenarioSingle();
        break;
      case 'firstbyte':
        await scenarioFirstByte();
        break;
      case 'stream':
        await scenarioStream();
        break;
      case 'burst':
        for (const n of BURSTS) await scenarioBurst(n, singleMedian);
        break;
      default:
        throw new Error(`unknown scenario ${s}`);
    }
  }
  await sandbox._destroy();
  process.stdout.write('\n' + table() + '\n');
}

main().catch(async (err) => {
  console.error('bench.mjs:', err?.stack || err);
  process.exitCode = 1;
  try {
    await sandbox._destroy();
  } catch {}
});
