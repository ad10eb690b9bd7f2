/** Types of cli/precompiled.mjs (plain JavaScript: cli/bin.mjs runs it before any TypeScript loader). */
export declare function commandFiles(commandsDir: URL | string): string[];
export declare function precompiledIsFresh(root: URL, out?: URL, env?: Record<string, string | undefined>): boolean;
