/** The machine a report's figures come from. */
import { cpus, loadavg, totalmem } from 'node:os';
import type { MachineInfo } from './report/result.js';

/** This machine. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    openFilesNote: 'server, generators and orchestrator share these cores',
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
