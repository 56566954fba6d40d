import 'reflect-metadata';
import { runService } from '@app/http';
import { eventGateway } from './service';

runService(eventGateway);
