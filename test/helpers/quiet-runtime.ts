// Loaded before each test file: the Temporal runtime logs warnings and errors only, so test output stays readable.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
