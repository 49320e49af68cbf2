// Minimal typings for pidusage 4 (the package ships none): just what the bench uses.
declare module 'pidusage' {
  interface PidStat {
    /** CPU % since the previous call for this pid. */
    cpu: number;
    /** Resident set size in bytes. */
    memory: number;
    ppid: number;
    pid: number;
    /** CPU time (user + system) in ms since the process started. */
    ctime: number;
    /** ms since the process started. */
    elapsed: number;
    timestamp: number;
  }
  function pidusage(pid: number): Promise<PidStat>;
  namespace pidusage {
    function clear(): void;
  }
  export = pidusage;
}
