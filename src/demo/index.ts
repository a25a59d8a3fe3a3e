// The demo module's public surface: `freshet demo` (what `npm run demo` runs).
export { runDemo } from './demo.ts';
