// Settings shared by every scenario for one `npm run bench` invocation.
export interface BenchContext {
  quick: boolean;
  /** Repetitions per figure (the median is reported). */
  runs: number;
  /** Multiplies the size of the backlog scenario (e): 1 = 100,000 files. */
  scale: number;
  /** Profiles were requested (--profile): measurement processes get --cpu-prof. */
  profile: boolean;
  log(message: string): void;
}
