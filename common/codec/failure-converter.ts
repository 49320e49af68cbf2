/**
 * The failure converter of every client, worker and workflow bundle of the app: a failure's message
 * and stack trace travel as an encoded payload (`encodeCommonAttributes`), so the payload codec seals
 * them like any payload (a message such as `carrier refused "<item>"` names the order). One failure
 * stays in clear: a payload sealed with a destroyed key (KeyDestroyedError, ./key-store), whose
 * message names only the customer's reference and the key, so that a worker's failed task, a replay
 * and the UI say "key destroyed for customer …" instead of an opaque "Encoded failure".
 * Loaded by path (DataConverter.failureConverterPath) inside the workflow sandbox too: it imports
 * nothing from Node.
 */
import {
  DefaultFailureConverter,
  type FailureConverter,
  type PayloadConverter,
  type ProtoFailure,
  type SerializationContext,
} from '@temporalio/common';

const isKeyDestroyed = (err: unknown): boolean => err instanceof Error && err.name === 'KeyDestroyedError';

class AppFailureConverter implements FailureConverter {
  private readonly sealed = new DefaultFailureConverter({ encodeCommonAttributes: true });
  private readonly clear = new DefaultFailureConverter();

  errorToFailure(err: unknown, payloadConverter: PayloadConverter, context?: SerializationContext): ProtoFailure {
    return (isKeyDestroyed(err) ? this.clear : this.sealed).errorToFailure(err, payloadConverter, context);
  }

  failureToError(failure: ProtoFailure, payloadConverter: PayloadConverter, context?: SerializationContext): Error {
    // Reads both forms: encoded attributes when present, else the message as it is.
    return this.sealed.failureToError(failure, payloadConverter, context);
  }
}

export const failureConverter: FailureConverter = new AppFailureConverter();
