import { Module } from '@nestjs/common';
import { ClientPageController } from './client-page.controller';

@Module({ controllers: [ClientPageController] })
export class ClientPageModule {}
