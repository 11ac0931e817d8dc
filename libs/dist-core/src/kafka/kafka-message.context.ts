import type { IHeaders } from 'kafkajs';

/**
 * What a handler gets besides the envelope (`@Ctx() context: KafkaMessageContext`): where the
 * message came from and which attempt this is.
 */
export class KafkaMessageContext {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly headers: IHeaders,
    /** 1 for the first run of the handler on this message in this process. */
    public attempt: number,
  ) {}
}
