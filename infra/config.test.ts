import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('config', () => {
  it('serves local development with defaults and freezes the result', () => {
    const config = loadConfig({});
    expect(config.api.port).toBe(3000);
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(Object.isFrozen(config.database)).toBe(true);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' })).toThrow(/TEMPORAL_ADDRESS: must be host:port/);
  });

  it('stops the API process with one clear line before it touches anything', () => {
    const result = spawnSync('npx', ['tsx', 'api/server.ts'], {
      env: { ...process.env, DATABASE_URL: 'postgres//broken' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: DATABASE_URL: /);
  });
});
