// Loaded after the test framework in every integration test file: a test that fails while it holds
// work behind a gate must not leave that work held (its file's clean-up would wait on it forever).
import { openAllGates } from './wait';

afterEach(() => openAllGates());
