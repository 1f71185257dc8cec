#!/usr/bin/env node
// npm runs this file for `npx hubfix`; it loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./hubfix.ts');
