import { Module } from '@nestjs/common';
import { UiController } from './ui.controller.js';

/** The /ui page; see ui.controller.ts. */
@Module({ controllers: [UiController] })
export class UiModule {}
