// The one-line inputs: a text prompt (filters, order and SKU look-ups) and a y/n confirmation.
// Both take every key while shown, and Esc always dismisses them.
import { Text } from "ink";
import { useState } from "react";
import { Layer, useKeys } from "./keys";

type PromptProps = {
	label: string;
	initial?: string;
	width: number;
	layer?: number;
	onSubmit(text: string): void;
	onCancel(): void;
};

export function Prompt({ label, initial = "", width, layer = Layer.viewModal, onSubmit, onCancel }: PromptProps) {
	const [value, setValue] = useState(initial);
	useKeys((input, key) => {
		if (key.escape) onCancel();
		else if (key.return) onSubmit(value);
		else if (key.backspace || key.delete) setValue((v) => v.slice(0, -1));
		else if (key.ctrl && input === "u") setValue("");
		else if (input && !key.ctrl && !key.meta) {
			// A paste can end in Enter: take the text before it, then submit.
			const [text = "", ...rest] = input.split(/\r\n?|\n/);
			const typed = text.replace(/[\u0000-\u001f\u007f]/g, "");
			if (rest.length > 0) onSubmit(value + typed);
			else setValue((v) => v + typed);
		}
		return true;
	}, layer);
	// Show the end of a long value: that is where the typing happens.
	const room = Math.max(1, width - label.length - 2);
	const shown = value.length > room ? `…${value.slice(value.length - room + 1)}` : value;
	return (
		<Text wrap="truncate-end">
			<Text bold color="cyan">
				{label}
			</Text>{" "}
			{shown}
			<Text inverse> </Text>
		</Text>
	);
}

type ConfirmProps = { message: string; layer?: number; onYes(): void; onNo(): void };

export function Confirm({ message, layer = Layer.viewModal, onYes, onNo }: ConfirmProps) {
	useKeys((input, key) => {
		if (input === "y" || input === "Y") onYes();
		else if (input === "n" || input === "N" || key.escape) onNo();
		return true;
	}, layer);
	return (
		<Text wrap="truncate-end" color="yellow">
			{message} <Text bold>y/n</Text>
		</Text>
	);
}
