import { relative } from "node:path";
import type { Reporter, TestModule } from "vitest/node";
import { CHROMIUM, hasBrowser, INSTALL_BROWSER } from "./browser";

/**
 * Ends `npm test` with a notice when the UI tests could not run for want of a browser:
 * which tests were skipped, and the one command that installs Chromium. (Under CI=true the
 * missing browser fails the run instead: test/ui/global-setup.ts.)
 */
export default class BrowserNotice implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    if (hasBrowser()) return;
    const skipped = modules
      .filter((module) => module.project.name === "ui")
      .flatMap((module) => [...module.children.allTests()].map((test) => `  - ${relative(process.cwd(), module.moduleId)} › ${test.fullName}`));
    if (skipped.length === 0) return;
    const rule = "=".repeat(78);
    console.log(
      [
        "",
        rule,
        `NOTICE: ${skipped.length} admin UI tests did not run: the browser ${CHROMIUM} is missing.`,
        "Everything else ran. The skipped tests:",
        ...skipped,
        "",
        `Install the browser (Debian's Chromium, never a download), then run npm test again:`,
        `    ${INSTALL_BROWSER}`,
        rule,
        "",
      ].join("\n"),
    );
  }
}
