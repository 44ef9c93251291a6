import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`): self time by function and by
 * package (node_modules/<pkg>, src/<folder>, node internals), and inclusive time of chosen frames.
 *   node dist/bench/tools/profile-summary.js .data/bench-profiles/service-ladder.cpuprofile [top=25]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function ownerOf(url: string): string {
  if (!url) return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const src = /\/dist\/(src\/[^/]+)/.exec(url);
  if (src) return src[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url.split('/').slice(-2).join('/');
}

function main(): void {
  const [path, topArg] = process.argv.slice(2);
  if (!path) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });

  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const inclusiveOwner = new Map<string, number>();
  const inclusiveFunction = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const key = `${frame.functionName || '(anonymous)'}  ${ownerOf(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const owner = frame.functionName.startsWith('(') ? frame.functionName : ownerOf(frame.url);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
    // Inclusive by owner: every distinct owner on the stack gets the sample once.
    const seen = new Set<string>();
    const seenFunctions = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (f.functionName === '(root)') continue;
      const o = f.functionName.startsWith('(') ? f.functionName : ownerOf(f.url);
      if (!seen.has(o)) {
        seen.add(o);
        inclusiveOwner.set(o, (inclusiveOwner.get(o) ?? 0) + us);
      }
      const fk = `${f.functionName || '(anonymous)'}  ${ownerOf(f.url)}:${f.lineNumber + 1}`;
      if (!seenFunctions.has(fk)) {
        seenFunctions.add(fk);
        inclusiveFunction.set(fk, (inclusiveFunction.get(fk) ?? 0) + us);
      }
    }
  }
  const busy = total - idle;
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const print = (title: string, map: Map<string, number>): void => {
    process.stdout.write(`\n${title} (share of non-idle ${(busy / 1e6).toFixed(2)} s)\n`);
    for (const [k, us] of [...map].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${k}\n`);
  };
  process.stdout.write(`profile ${path}: ${(total / 1e6).toFixed(2)} s sampled, ${((idle / total) * 100).toFixed(0)}% idle\n`);
  print('self time by package', byOwner);
  print('inclusive time by package', inclusiveOwner);
  print('self time by function', byFunction);
  print('inclusive time by function', inclusiveFunction);
}

main();
