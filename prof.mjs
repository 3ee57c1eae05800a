import { createRequire } from 'node:module';
const require = createRequire('/work/wt-tfjs/package.json');
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
const st = await import('/work/wt-tfjs/dist/src/tfjs/index.js');
st.setNumThreads(1); if (process.env.RL) st.setRecycleLimit(Number(process.env.RL));
const nsfwjs = require('nsfwjs');
const be = process.argv[2] || 'simdtensor';
await tf.setBackend(be);
const model = await nsfwjs.load('MobileNetV2');
const x = tf.randomUniform([Number(process.argv[3]||1),224,224,3], 0, 255);
const run = () => tf.tidy(() => model.model.predict(x.div(255)));
run().dispose(); run().dispose();
const agg = {}; const tot = [];
for (let r = 0; r < Number(process.argv[4]||5); r++) {
const p = await tf.profile(() => { const y = run(); y.dataSync(); return y; });
let t = 0;
for (const k of p.kernels) { if (k.name.endsWith('__op')) continue; agg[k.name] = agg[k.name] || {n:0, ms:[]}; agg[k.name].n++; agg[k.name].ms.push(k.kernelTimeMs); t += k.kernelTimeMs; }
tot.push(t);
}
const med = (a) => a.sort((x,y)=>x-y)[a.length>>1];
console.log(be, 'kernel sum per run', tot.map(t=>t.toFixed(0)).join(' '));
console.log(Object.entries(agg).map(([k,v])=>[k, v.ms.reduce((a,b)=>a+b,0)/Number(process.argv[4]||5), v.n/Number(process.argv[4]||5)]).sort((a,b)=>b[1]-a[1]).slice(0,10).map(([k,ms,n])=>`${k} n=${n} ${ms.toFixed(1)}ms/run`).join('\n'));
console.log(JSON.stringify(st.recycleStats()));
