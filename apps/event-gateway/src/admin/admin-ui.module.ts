import { Module } from '@nestjs/common';
import { AdminUiService } from './admin-ui.service';

@Module({ providers: [AdminUiService], exports: [AdminUiService] })
export class AdminUiModule {}
