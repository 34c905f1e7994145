import type { Command } from 'commander';

// Placeholder until the metrics CLI lands (being written now).
export function registerEvalCommands(_program: Command): void {}
