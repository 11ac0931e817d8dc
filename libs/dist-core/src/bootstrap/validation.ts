import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

/** "items.0.quantity must not be greater than 10000": each failed constraint with its path. */
export function describeValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) =>
      // class-validator starts each message with the bare property name; give the full path.
      text.startsWith(`${error.property} `)
        ? `${path}${text.slice(error.property.length)}`
        : `${path}: ${text}`,
    );
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
}

/**
 * The global validation pipe: unknown fields are rejected (not silently dropped), and
 * nothing is coerced — `"2"` is not the number 2, so a client learns its JSON is wrong
 * instead of the server guessing.
 */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const messages = describeValidationErrors(errors);
      return new BadRequestException({ message: messages.join('; '), details: messages });
    },
  });
}
