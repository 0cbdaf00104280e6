/**
 * A finite state machine given as each state's allowed successors. Stores use `predecessorsOf`
 * to write a change only where the row's current state allows it (`UPDATE … WHERE state IN (…)`).
 */
export interface StateMachine<S extends string> {
  readonly states: readonly S[];
  readonly successors: Readonly<Record<S, readonly S[]>>;
  /** Whether `from` may move to `to`; staying put is not a move (a store treats it as already done). */
  allows(from: string, to: string): boolean;
  /** The states a row may be in for a move to `to`. */
  predecessorsOf(to: S): S[];
  isState(value: unknown): value is S;
}

export function stateMachine<S extends string>(successors: Readonly<Record<S, readonly S[]>>): StateMachine<S> {
  const states = Object.keys(successors) as S[];
  const isState = (value: unknown): value is S => typeof value === 'string' && Object.hasOwn(successors, value);
  return {
    states,
    successors,
    allows: (from, to) => isState(from) && isState(to) && successors[from].includes(to),
    predecessorsOf: (to) => states.filter((from) => successors[from].includes(to)),
    isState,
  };
}
