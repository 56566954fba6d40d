import { Module } from '@nestjs/common';
import { ClientRegistryService } from './client-registry.service';
import { ClientsController } from './clients.controller';

@Module({
  controllers: [ClientsController],
  providers: [ClientRegistryService],
  exports: [ClientRegistryService],
})
export class RegistryModule {}
