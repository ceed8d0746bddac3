// What a person does in the browser client, as steps the browser stories
// share: sign up, sign in on another device, send (Enter sends, Shift+Enter is a new line), create a
// room through the dialog, find a message in the timeline.

import type { Page } from "playwright-core";

export async function signUp(page: Page, url: string, userName: string): Promise<void> {
  await page.goto(url);
  await page.getByRole("tab", { name: "Create account" }).click();
  await page.getByLabel("User name").fill(userName);
  await page.getByLabel("Password").fill(`${userName}'s long password`);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("button", { name: "New room" }).waitFor();
  await page.locator('[data-connection="connected"]').waitFor();
}

/** Signs in as an existing user: a new device of theirs (each browser context is one). */
export async function signIn(page: Page, url: string, userName: string): Promise<void> {
  await page.goto(url);
  await page.getByRole("tab", { name: "Sign in" }).click();
  await page.getByLabel("User name").fill(userName);
  await page.getByLabel("Password").fill(`${userName}'s long password`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "New room" }).waitFor();
  await page.locator('[data-connection="connected"]').waitFor();
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel("Message");
  const [first, ...rest] = text.split("\n");
  await box.fill(first ?? "");
  for (const line of rest) {
    await box.press("Shift+Enter");
    await box.pressSequentially(line);
  }
  await box.press("Enter");
}

/** Creates a room through the dialog, opens it, and answers its id (from the address bar). */
export async function createRoom(
  page: Page,
  room: { name: string; topic?: string; open?: boolean; encrypted?: boolean },
): Promise<string> {
  await page.getByRole("button", { name: "New room" }).click();
  const dialog = page.getByRole("dialog", { name: "New room" });
  await dialog.getByLabel("Name").fill(room.name);
  if (room.topic !== undefined) await dialog.getByLabel("Topic").fill(room.topic);
  if (room.open === true) await dialog.getByLabel("Anyone with the room's id").check();
  if (room.encrypted === true) await dialog.getByLabel(/^End-to-end encrypted/).check();
  await dialog.getByRole("button", { name: "Create room" }).click();
  await page.locator(".room-name", { hasText: room.name }).waitFor();
  return decodeURIComponent(new URL(page.url()).pathname.slice("/rooms/".length));
}

/** A message in the timeline whose body is exactly `text`. */
export function message(page: Page, text: string) {
  return page.locator(".message[data-sequence]").filter({
    has: page.locator(".message-body", { hasText: new RegExp(`^${text}$`) }),
  });
}
