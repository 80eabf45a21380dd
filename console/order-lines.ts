// What each order line was asked for, shared by the Order view and `ordersync order`.
import type { OrderView } from "./protocol";

export type Line = OrderView["lines"][number];
export type ChannelLine = NonNullable<OrderView["order"]>["lines"][number];

/**
 * What a saga line was ordered: its channel line's quantity. A bundle's component lines are
 * `<channel line id>#<component SKU>` and the console does not know the bundle's recipe, so
 * theirs is rebuilt from the ledger's side: `target` is what is still to ship and drops as units
 * ship, so what is left plus what shipped is what was asked for (committed is not added, since a
 * line the channel marked fulfilled keeps its target and commits it too).
 */
export function orderedOf(line: Line, lines: readonly ChannelLine[]): { ordered: number; channel?: ChannelLine; bundle?: ChannelLine } {
	const channel = lines.find((l) => l.channelLineId === line.lineId);
	if (channel) return { ordered: channel.quantity, channel };
	const hash = line.lineId.indexOf("#");
	const bundle = hash === -1 ? undefined : lines.find((l) => l.channelLineId === line.lineId.slice(0, hash));
	return { ordered: line.target + line.shipped, bundle };
}
