/**
 * Restarting the demo: the story revokes only its own window left open by an interrupted run,
 * never a window a dispatcher asked for and two officers approved on the same container.
 */
import { describe, expect, it } from "vitest";
import { STORY_PURPOSE, staleStoryWindows } from "../../src/demo/story.js";

describe("demo restart", () => {
  it("a restarted story revokes its own stale window and leaves the windows people made", () => {
    const windows = [
      { id: "win_story", status: "active", purpose: STORY_PURPOSE },
      { id: "win_people", status: "approved", purpose: "Replenish ATM before the weekend" },
    ];
    expect(staleStoryWindows(windows).map((window) => window.id)).toEqual(["win_story"]);
  });
});
