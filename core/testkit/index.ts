// conductor/testkit: what a plugin's tests need. `buildPipeline` runs a real pipeline
// in-process with chosen plugins and feeds it intents; `runConformance` is the contract suite
// every plugin runs in one line. A separate entry point, so that production code never loads
// node:test.
export { buildPipeline } from './pipeline.ts';
export type { BuildPipelineOptions, DeferredIntent, FeedResult, TestPipeline } from './pipeline.ts';
export { runConformance } from './conformance.ts';
export type { ConformanceOptions } from './conformance.ts';
export { sampleIntent } from './intents.ts';
export type { Conductor } from '../app.ts';
