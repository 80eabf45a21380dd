// One keyboard listener for the whole app, handing each key to the top-most handler that wants
// it: an open prompt before the view, the view before the global keys. A single ordered dispatch
// (rather than one `useInput` per component toggled by `isActive`) means a key that closes a
// prompt can never also reach the handler underneath it in the same keystroke.
import { type Key, useInput } from "ink";
import { createContext, type ReactNode, type RefObject, useContext, useEffect, useRef } from "react";

/** Returns true when it used the key, so handlers below it do not see it. */
export type KeyHandler = (input: string, key: Key) => boolean;

/** Who gets a key first: higher layers, then the most recently shown handler within a layer. */
export const Layer = { global: 0, view: 1, viewModal: 2, appModal: 3 } as const;

type Entry = { layer: number; order: number; handler: RefObject<KeyHandler> };
type Register = (layer: number, handler: RefObject<KeyHandler>) => () => void;

const KeysContext = createContext<Register | null>(null);

export function KeyRouter({ children }: { children: ReactNode }) {
	const entries = useRef<Entry[]>([]);
	const counter = useRef(0);
	const register = useRef<Register>((layer, handler) => {
		const entry = { layer, order: counter.current++, handler };
		entries.current = [...entries.current, entry].sort((a, b) => b.layer - a.layer || b.order - a.order);
		return () => {
			entries.current = entries.current.filter((e) => e !== entry);
		};
	});
	useInput((input, key) => {
		for (const entry of entries.current) if (entry.handler.current(input, key)) return;
	});
	return <KeysContext.Provider value={register.current}>{children}</KeysContext.Provider>;
}

/** Registers a key handler while mounted and `active`; the handler may change on every render. */
export function useKeys(handler: KeyHandler, layer: number, active = true): void {
	const register = useContext(KeysContext);
	if (!register) throw new Error("useKeys needs a <KeyRouter> above it");
	const latest = useRef(handler);
	latest.current = handler;
	useEffect(() => (active ? register(layer, latest) : undefined), [register, layer, active]);
}
