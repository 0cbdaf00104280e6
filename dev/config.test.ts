import { describe, expect, it } from 'vitest';
import { ConfigError } from '../infra/config.js';
import { loadDevConfig } from './config.js';

describe('development config', () => {
  it("extends production's configuration with the sandbox's settings, frozen", () => {
    const config = loadDevConfig({ NODE_ENV: 'development' });
    expect(config.api.port).toBe(3000);
    expect(config.providers.sandboxUrl).toBe('http://127.0.0.1:4010');
    expect(config.sandbox).toEqual({ port: 4010, latencyMs: 0, errorRate: 0, soldOut: [], offerTtlMs: 15 * 60_000, holdTtlMs: 20 * 60_000 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sandbox)).toBe(true);
    const faulty = loadDevConfig({ NODE_ENV: 'test', SANDBOX_PROVIDER_PORT: '4110', SANDBOX_SOLD_OUT: 'TC100, TC200', SANDBOX_LATENCY_MS: '' });
    expect(faulty.sandbox).toMatchObject({ port: 4110, soldOut: ['TC100', 'TC200'], latencyMs: 0 });
  });

  it("names every bad variable, production's and the sandbox's, in one error", () => {
    const load = () => loadDevConfig({ NODE_ENV: 'development', PORT: 'eighty', SANDBOX_ERROR_RATE: '2' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/^Invalid configuration: PORT: .*; SANDBOX_ERROR_RATE: /);
  });

  it('does not run in production', () => {
    expect(() => loadDevConfig({ NODE_ENV: 'production' })).toThrow(/^Invalid configuration: NODE_ENV: the development tools \(dev\/\) do not run in production$/);
    expect(() => loadDevConfig({})).toThrow(/NODE_ENV: required/);
  });
});
